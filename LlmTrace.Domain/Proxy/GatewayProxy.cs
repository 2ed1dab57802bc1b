using Polly.CircuitBreaker;
using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Limits;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Security;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace LlmTrace.Domain.Proxy;

/// <summary>
/// The transparent, streaming proxy: forwards one client call to its upstream unchanged, streams the answer back as it
/// arrives, keeps a bounded copy of both sides and hands a <see cref="Trace"/> to the capture queue once the client has
/// its complete response.
/// </summary>
public sealed class GatewayProxy(
    IHttpClientFactory clientFactory,
    Routing.BackendPools backends,
    IOptions<ProxyOptions> options,
    ICaptureQueue captureQueue,
    TraceBuilder traceBuilder,
    CaptureRedactor redactor,
    RequestGuard guard,
    GatewayAuthenticator authenticator,
    GatewayAdmission admission,
    IOptionsMonitor<SecurityOptions> security,
    TimeProvider timeProvider,
    Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime,
    RequestMemoryBudget requestMemory,
    Telemetry.GatewayTelemetry telemetry,
    ILogger<GatewayProxy> logger)
{
    public const string HttpClientName = "LlmTrace.Upstream";
    public const string TraceIdHeader = "x-llmtrace-trace-id";

    private readonly ProxyOptions _options = options.Value;

    /// <summary>Forwards the current request along <paramref name="route"/>.</summary>
    public async Task ForwardAsync(HttpContext context, GatewayRoute route)
    {
        var request = context.Request;
        var startedTimestamp = timeProvider.GetTimestamp();
        var traceId = Guid.CreateVersion7(timeProvider.GetUtcNow());
        context.Response.Headers[TraceIdHeader] = traceId.ToString();

        var pathAfterPrefix = request.Path.StartsWithSegments(route.ClientPrefix, StringComparison.OrdinalIgnoreCase, out var remaining)
            ? remaining
            : request.Path;
        var plan = backends.Plan(route);
        var upstream = plan?.Primary;
        var exchange = new CompletedExchange
        {
            TraceId = traceId,
            RequestedTenantId = TenantResolver.ResolveTenant(request.Headers, request.Query),
            RequestedAgentId = TenantResolver.ResolveAgent(request.Headers),
            Provider = route.GetProvider(upstream),
            RouteName = route.Name,
            Endpoint = request.Path.Value ?? "/",
            PathAfterPrefix = pathAfterPrefix.Value,
            Method = request.Method,
            StartedAt = timeProvider.GetUtcNow(),
        };

        byte[]? body = null;
        try
        {
            if (plan is null)
            {
                logger.UpstreamNotConfigured(traceId, route.Name, route.SettingName);
                await authenticator.RefuseUnauthenticatedAsync(
                    context,
                    exchange,
                    StatusCodes.Status503ServiceUnavailable,
                    "upstream_not_configured",
                    "upstream_not_configured",
                    $"LlmTrace has no upstream for {route.ClientPrefix}/. Set {route.SettingName}.").ConfigureAwait(false);
                return;
            }

            // Who is calling is settled before the body is read: an unauthenticated call costs nothing.
            exchange.Identity = await authenticator.AuthenticateAsync(context, exchange, backends.SignsInItself(route.Name)).ConfigureAwait(false);
            if (exchange.Identity is null)
            {
                return;
            }

            var read = await RequestBodyReader.ReadAsync(context, _options.MaxRequestBodyBytes, requestMemory).ConfigureAwait(false);
            if (read.Outcome == RequestBodyOutcome.ClientAborted)
            {
                exchange.ClientCancelled = true;
                return;
            }

            if (read.Outcome == RequestBodyOutcome.OverCapacity)
            {
                logger.RequestMemoryFull(traceId, requestMemory.Held);
                context.Response.Headers.RetryAfter = "1";
                await FailAsync(context, exchange, StatusCodes.Status503ServiceUnavailable, "service_unavailable", "gateway_busy",
                    "LlmTrace holds as many request bytes as it may right now; nothing was forwarded. Retry shortly.").ConfigureAwait(false);
                return;
            }

            if (read.Outcome == RequestBodyOutcome.TimedOut)
            {
                logger.RequestBodyTimedOut(traceId, read.Length);
                await FailAsync(context, exchange, StatusCodes.Status408RequestTimeout, "invalid_request_error", "request_body_timeout",
                    $"The request body stopped arriving after {read.Length} bytes; nothing was forwarded.").ConfigureAwait(false);
                return;
            }

            body = read.Buffer;
            exchange.RequestBytes = read.Length;
            if (read.Outcome == RequestBodyOutcome.TooLarge)
            {
                logger.RequestTooLarge(traceId, _options.MaxRequestBodyBytes);
                await FailAsync(context, exchange, StatusCodes.Status413PayloadTooLarge, "invalid_request_error", "request_too_large",
                    $"Request body exceeds the gateway limit of {_options.MaxRequestBodyBytes} bytes.").ConfigureAwait(false);
                return;
            }

            var bodySpan = body.AsMemory(0, read.Length);
            var protocol = ProviderProtocol.For(exchange.Provider);
            // A UTF-8 byte-order mark is valid before JSON for most servers, but not for the JSON reader: skip it when
            // reading (the body is forwarded as sent), so it cannot hide the model or max_tokens from the limits.
            var json = bodySpan.Span.StartsWith("\uFEFF"u8) ? bodySpan.Span[3..] : bodySpan.Span;
            // Many servers read any body as JSON whatever its content type: one whose bytes are JSON is read (and analysed) as JSON.
            exchange.Request = IsJsonOrUnspecified(request.ContentType) || LooksLikeJson(json)
                ? protocol.ReadRequest(json, pathAfterPrefix.Value?.TrimStart('/') ?? string.Empty, request.QueryString.Value)
                : new RequestInfo { ParseError = "request body is not JSON; not parsed", Coverage = RequestCoverage.None };

            exchange.Admission = await admission.AdmitAsync(context, exchange, exchange.Identity).ConfigureAwait(false);
            if (exchange.Admission is null || !await EnforceAsync(context, exchange).ConfigureAwait(false))
            {
                return;
            }

            var content = bodySpan;
            if (_options.InjectStreamUsage && exchange.Provider.IsOpenAIFamily()
                && exchange.Request is { Streaming: true, SupportsStreamUsage: true, ClientRequestedStreamUsage: false, ParseError: null }
                && StreamUsageRequestRewriter.TryRewrite(bodySpan.Span) is { } rewritten)
            {
                content = rewritten;
                exchange.UsageInjected = true;
            }

            var query = exchange.Identity.Credential is null ? request.QueryString.Value : GatewayAuthenticator.StripQueryKey(request.QueryString.Value);
            var path = pathAfterPrefix.ToUriComponent();
            // The route's first backend: a single URL's only one, and the server telemetry names for a pool.
            var primaryUri = route.BuildUpstreamUri(plan.Primary, path, query);
            // If the process dies from here on, the call is still recorded (as interrupted) by a durable capture queue.
            captureQueue.Started(TraceBuilder.BuildStarted(exchange));
            exchange.Activity = telemetry.StartUpstreamCall(exchange.Request, exchange.Provider.ToWireName(), primaryUri, traceId);
            await SendAsync(context, exchange, route, plan, primaryUri, path, query, content, bodySpan, HasBody(request, read.Length)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !context.Response.HasStarted)
        {
            // A bug or an unforeseen input: still answer in the provider's shape, and keep the trace.
            logger.UnexpectedFailure(traceId, ex);
            await FailAsync(context, exchange, StatusCodes.Status500InternalServerError, "gateway_error", "gateway_error",
                $"LlmTrace could not process this call. Trace id {traceId}.").ConfigureAwait(false);
        }
        finally
        {
            exchange.DurationMs = timeProvider.GetElapsedTime(startedTimestamp).TotalMilliseconds;
            if (body is not null)
            {
                RequestBodyReader.Return(body, requestMemory);
            }

            await CaptureAsync(exchange).ConfigureAwait(false);
        }
    }

    /// <summary>Answers a path no route matches: 404 in OpenAI's shape, with a trace.</summary>
    public async Task NotFoundAsync(HttpContext context)
    {
        var startedTimestamp = timeProvider.GetTimestamp();
        var traceId = Guid.CreateVersion7(timeProvider.GetUtcNow());
        context.Response.Headers[TraceIdHeader] = traceId.ToString();
        var exchange = new CompletedExchange
        {
            TraceId = traceId,
            RequestedTenantId = TenantResolver.ResolveTenant(context.Request.Headers, context.Request.Query),
            RequestedAgentId = TenantResolver.ResolveAgent(context.Request.Headers),
            Provider = ProviderKind.Unknown,
            Endpoint = context.Request.Path.Value ?? "/",
            Method = context.Request.Method,
            StartedAt = timeProvider.GetUtcNow(),
        };
        await authenticator.RefuseUnauthenticatedAsync(context, exchange, StatusCodes.Status404NotFound, "invalid_request_error", "route_not_found",
            $"No LlmTrace route for {context.Request.Method} {context.Request.Path}. Use /v1/, /openai/, /anthropic/ or /gemini/.").ConfigureAwait(false);
        exchange.DurationMs = timeProvider.GetElapsedTime(startedTimestamp).TotalMilliseconds;
        await CaptureAsync(exchange).ConfigureAwait(false);
    }

    /// <summary>The pre-request security policy: false when the call was blocked (the 403 has been written).</summary>
    private async Task<bool> EnforceAsync(HttpContext context, CompletedExchange exchange)
    {
        if (!guard.IsActiveFor(exchange.Identity?.Tenant) || exchange.Request is not { } parsed)
        {
            return true;
        }

        var verdict = guard.Evaluate(parsed.Prompt, parsed.Sections, exchange.Identity?.Tenant, parsed.Coverage);
        exchange.GuardFindings = verdict.Findings;
        exchange.GuardSensitiveMatches = verdict.SensitiveMatches;
        exchange.GuardAnalysis = verdict.InjectionAnalysis;
        exchange.GuardCoverage = verdict.Coverage;
        if (verdict.Refused)
        {
            logger.Blocked(exchange.TraceId, verdict.Coverage!);
            // The security policy blocks, and a call it could not check is not forwarded (fail-closed, the default).
            context.Response.Headers.RetryAfter = "1";
            await FailAsync(context, exchange, StatusCodes.Status503ServiceUnavailable, "service_unavailable", "security_analysis_incomplete",
                verdict.TimedOut
                    ? "LlmTrace could not finish the security analysis of this request in time and does not forward calls it could not check. Retry shortly."
                    : $"A LlmTrace security analyser failed on this request, which was not forwarded. Trace id {exchange.TraceId}.").ConfigureAwait(false);
            return false;
        }

        if (verdict.Action == PolicyAction.Block)
        {
            var types = string.Join(", ", verdict.Findings.Select(f => f.Type).Distinct());
            logger.Blocked(exchange.TraceId, types);
            await FailAsync(context, exchange, StatusCodes.Status403Forbidden, "security_violation", "security_violation",
                $"Request blocked by LlmTrace security policy: {types}.").ConfigureAwait(false);
            return false;
        }

        if (verdict.Action == PolicyAction.Flag)
        {
            context.Response.Headers["x-llmtrace-flagged"] = "true";
            context.Response.Headers["x-llmtrace-findings"] = RequestGuard.HeaderValue(verdict.Findings);
        }

        return true;
    }

    /// <param name="content">The body sent upstream (with <c>stream_options</c> added when the gateway injected it).</param>
    /// <param name="original">The client's own body, resent unchanged if the upstream rejects the injected <c>stream_options</c>.</param>
    /// <param name="primaryUri">The request's URI on the route's first backend (the only one of a single URL).</param>
    private async Task SendAsync(
        HttpContext context,
        CompletedExchange exchange,
        GatewayRoute route,
        Routing.BackendPlan plan,
        Uri primaryUri,
        string? path,
        string? query,
        ReadOnlyMemory<byte> content,
        ReadOnlyMemory<byte> original,
        bool hasBody)
    {
        var idleTimeout = TimeSpan.FromSeconds(_options.IdleTimeoutSeconds);
        using var idle = new CancellationTokenSource(idleTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, idle.Token);
        var client = clientFactory.CreateClient(HttpClientName);
        var startedTimestamp = timeProvider.GetTimestamp();

        HttpResponseMessage? upstreamResponse;
        try
        {
            upstreamResponse = plan.Pooled
                ? await SendToPoolAsync().ConfigureAwait(false)
                : await SendWithStreamOptionsAsync(primaryUri, linked.Token).ConfigureAwait(false);
            if (upstreamResponse is null)
            {
                return; // the pool answered the client itself
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            OnClientGone(exchange);
            exchange.Error ??= "client_cancelled";
            return;
        }
        catch (OperationCanceledException)
        {
            // The idle timer, or the handler's connect timeout.
            logger.UpstreamIdleTimeout(exchange.TraceId, route.Name, _options.IdleTimeoutSeconds, StatusCodes.Status504GatewayTimeout);
            await FailAsync(context, exchange, StatusCodes.Status504GatewayTimeout, "timeout", "upstream_timeout",
                $"The upstream sent no response within {_options.IdleTimeoutSeconds} s.").ConfigureAwait(false);
            return;
        }
        catch (HttpRequestException ex)
        {
            logger.UpstreamUnreachable(exchange.TraceId, route.Name, ex.HttpRequestError.ToString());
            await FailAsync(context, exchange, StatusCodes.Status502BadGateway, "upstream_error", "upstream_unreachable",
                $"The upstream could not be reached ({ex.HttpRequestError}).").ConfigureAwait(false);
            return;
        }

        using (upstreamResponse)
        {
            var streaming = exchange.Request?.Streaming == true;
            if (streaming)
            {
                telemetry.StreamOpened();
            }

            try
            {
                await CopyResponseAsync(context, exchange, upstreamResponse, idle, idleTimeout, linked.Token, startedTimestamp).ConfigureAwait(false);
            }
            finally
            {
                if (streaming)
                {
                    telemetry.StreamClosed();
                }
            }
        }

        async Task<HttpResponseMessage> SendWithStreamOptionsAsync(Uri upstreamUri, CancellationToken token, Routing.Backend? backend = null)
        {
            var response = await SendOnceAsync(upstreamUri, content, token, backend).ConfigureAwait(false);
            if (exchange.UsageInjected && await RejectsStreamOptionsAsync(response, token).ConfigureAwait(false))
            {
                // Some OpenAI-compatible servers refuse stream_options: send the client's own body, as the client would have.
                response.Dispose();
                exchange.UsageInjected = false;
                logger.StreamOptionsRejected(exchange.TraceId, route.Name);
                response = await SendOnceAsync(upstreamUri, original, token, backend).ConfigureAwait(false);
            }

            return response;
        }

        // Tries the pool's backends in the plan's order. Failover happens only here, before a byte of any response has
        // reached the client; once one is chosen, its answer (a stream too) is the client's, and nothing is replayed.
        // Null when the client has been answered already (every backend throttled or broken).
        async Task<HttpResponseMessage?> SendToPoolAsync()
        {
            if (plan.AllCoolingFor is { } cooling)
            {
                await AnswerAllCoolingAsync(cooling).ConfigureAwait(false);
                return null;
            }

            exchange.Attempts = new List<UpstreamAttempt>(plan.MaxAttempts);
            var allThrottled = true;
            for (var attempt = 0; attempt < plan.MaxAttempts; attempt++)
            {
                var backend = plan.Candidates[attempt];
                var last = attempt == plan.MaxAttempts - 1;
                var attemptStarted = timeProvider.GetTimestamp();
                idle.CancelAfter(idleTimeout);
                using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
                attemptTimeout.CancelAfter(backend.Timeout ?? idleTimeout);
                var uri = route.BuildUpstreamUri(backend.Url, backend.MapPath(path), query);
                try
                {
                    var response = await backend.Breaker!.ExecuteAsync(
                        async token =>
                        {
                            HttpResponseMessage sent;
                            try
                            {
                                sent = await SendWithStreamOptionsAsync(uri, token, backend).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException) when (!linked.IsCancellationRequested)
                            {
                                throw new TimeoutException($"{backend.Name} sent no response headers in time.");
                            }

                            // A server error counts against the backend's breaker; the response itself travels in the exception.
                            return (int)sent.StatusCode >= 500 ? throw new Routing.BackendFailedException(sent) : sent;
                        },
                        attemptTimeout.Token).ConfigureAwait(false);
                    if (response.StatusCode != HttpStatusCode.TooManyRequests)
                    {
                        Attempt(backend, (int)response.StatusCode, "served");
                        exchange.Backend = backend.Name;
                        return response;
                    }

                    var now = timeProvider.GetUtcNow();
                    var wait = Routing.BackendPools.RetryAfter(response.Headers, now) ?? plan.DefaultCooling;
                    backend.Cool(now + (wait > plan.MaxCooling ? plan.MaxCooling : wait));
                    Attempt(backend, 429, "throttled");
                    if (!last)
                    {
                        logger.BackendFailedOver(exchange.TraceId, route.Name, backend.Name, "throttled");
                        response.Dispose();
                        continue;
                    }

                    if (allThrottled)
                    {
                        response.Dispose();
                        await AnswerAllCoolingAsync(plan.Candidates.Select(b => b.CoolingFor(now) ?? TimeSpan.Zero).Min()).ConfigureAwait(false);
                        return null;
                    }

                    exchange.Backend = backend.Name;
                    return response;
                }
                catch (Routing.BackendFailedException ex)
                {
                    allThrottled = false;
                    Attempt(backend, (int)ex.Response.StatusCode, "server_error");
                    if (last)
                    {
                        exchange.Backend = backend.Name;
                        return ex.Response;
                    }

                    logger.BackendFailedOver(exchange.TraceId, route.Name, backend.Name, "server_error");
                    ex.Response.Dispose();
                }
                catch (Routing.BackendSignInException ex)
                {
                    allThrottled = false;
                    Attempt(backend, null, "sign_in_failed");
                    logger.BackendSignInFailed(exchange.TraceId, route.Name, backend.Name, ex.InnerException!);
                    if (last)
                    {
                        await FailAsync(context, exchange, StatusCodes.Status502BadGateway, "upstream_error", "upstream_sign_in_failed",
                            $"LlmTrace could not sign in to the backends of {route.ClientPrefix}/ with its identity. Trace id {exchange.TraceId}.").ConfigureAwait(false);
                        return null;
                    }
                }
                catch (BrokenCircuitException)
                {
                    allThrottled = false;
                    Attempt(backend, null, "breaker_open");
                    if (last)
                    {
                        await FailAsync(context, exchange, StatusCodes.Status503ServiceUnavailable, "service_unavailable", "no_backend_available",
                            $"Every backend of {route.ClientPrefix}/ is failing; retry shortly.").ConfigureAwait(false);
                        return null;
                    }
                }
                catch (TimeoutException) when (!last)
                {
                    allThrottled = false;
                    Attempt(backend, null, "timeout");
                    logger.BackendFailedOver(exchange.TraceId, route.Name, backend.Name, "timeout");
                }
                catch (TimeoutException ex)
                {
                    Attempt(backend, null, "timeout");
                    throw new OperationCanceledException(ex.Message, ex);
                }
                catch (HttpRequestException ex)
                {
                    allThrottled = false;
                    Attempt(backend, null, "unreachable");
                    if (last)
                    {
                        throw new HttpRequestException(ex.HttpRequestError, ex.Message, ex);
                    }

                    logger.BackendFailedOver(exchange.TraceId, route.Name, backend.Name, "unreachable");
                }

                void Attempt(Routing.Backend backend, int? status, string outcome)
                {
                    exchange.Attempts.Add(new UpstreamAttempt
                    {
                        Backend = backend.Name,
                        Status = status,
                        Outcome = outcome,
                        DurationMs = Math.Round(timeProvider.GetElapsedTime(attemptStarted).TotalMilliseconds, 3),
                    });
                    telemetry.BackendAttempt(route.Name, backend.Name, outcome);
                }
            }

            return null; // not reached: the last attempt returns or throws
        }

        async Task AnswerAllCoolingAsync(TimeSpan cooling)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(cooling.TotalSeconds));
            logger.AllBackendsCooling(exchange.TraceId, route.Name, seconds);
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await FailAsync(context, exchange, StatusCodes.Status429TooManyRequests, "rate_limit_error", "all_backends_cooling",
                $"Every backend of {route.ClientPrefix}/ is rate-limited; retry after {seconds} s.").ConfigureAwait(false);
        }

        async Task<HttpResponseMessage> SendOnceAsync(Uri upstreamUri, ReadOnlyMemory<byte> body, CancellationToken token, Routing.Backend? backend)
        {
            using var upstreamRequest = new HttpRequestMessage(new HttpMethod(context.Request.Method), upstreamUri)
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            };
            if (hasBody)
            {
                upstreamRequest.Content = new ReadOnlyMemoryContent(body);
            }

            CopyRequestHeaders(context.Request.Headers, upstreamRequest);
            if (exchange.Identity?.Credential is { } credential)
            {
                GatewayAuthenticator.ApplyCredential(credential, upstreamRequest);
            }

            if (backend is not null)
            {
                await backend.AuthorizeAsync(
                    upstreamRequest,
                    GatewayAuthenticator.CredentialHeaderNames,
                    exchange.Provider,
                    exchange.Identity?.Credential is not null,
                    token).ConfigureAwait(false);
            }

            return await client.SendAsync(upstreamRequest, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A 400 whose (small, bounded) error body names <c>stream_options</c>. The body is buffered only in that case, and
    /// when it is not such a rejection it still reaches the client unchanged from the buffer.
    /// </summary>
    private static async Task<bool> RejectsStreamOptionsAsync(HttpResponseMessage response, CancellationToken token)
    {
        const int MaxErrorBody = 64 * 1024;
        if (response.StatusCode != HttpStatusCode.BadRequest || response.Content.Headers.ContentLength > MaxErrorBody)
        {
            return false;
        }

        try
        {
            await response.Content.LoadIntoBufferAsync(MaxErrorBody, token).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return false; // Larger than the bound: not an argument error worth reading.
        }

        var text = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
        return text.Contains("stream_options", StringComparison.OrdinalIgnoreCase);
    }

    private async Task CopyResponseAsync(
        HttpContext context,
        CompletedExchange exchange,
        HttpResponseMessage upstreamResponse,
        CancellationTokenSource idle,
        TimeSpan idleTimeout,
        CancellationToken token,
        long startedTimestamp)
    {
        var response = context.Response;
        exchange.StatusCode = (int)upstreamResponse.StatusCode;
        exchange.ResponseContentType = upstreamResponse.Content.Headers.ContentType?.ToString();
        exchange.ResponseContentEncoding = upstreamResponse.Content.Headers.ContentEncoding.Count > 0
            ? string.Join(',', upstreamResponse.Content.Headers.ContentEncoding)
            : null;

        var isEventStream = TraceBuilder.IsEventStream(exchange.ResponseContentType);
        var plainSuccessStream = isEventStream && exchange.ResponseContentEncoding is null && upstreamResponse.IsSuccessStatusCode;
        using var filter = exchange.UsageInjected && plainSuccessStream ? new StreamUsageFilter() : null;
        var monitorOptions = security.CurrentValue.StreamMonitor;
        using var monitor = monitorOptions.Enabled && plainSuccessStream && StreamOutputMonitor.Supports(exchange.Provider)
            && exchange.Identity?.Tenant.MonitoringScope != Tenancy.MonitoringScope.InputOnly
            ? new StreamOutputMonitor(exchange.Provider, exchange.Request?.Sections.Trusted, monitorOptions)
            : null;

        response.StatusCode = exchange.StatusCode;
        if (!string.IsNullOrEmpty(upstreamResponse.ReasonPhrase) && context.Features.Get<IHttpResponseFeature>() is { } responseFeature)
        {
            responseFeature.ReasonPhrase = upstreamResponse.ReasonPhrase;
        }

        CopyResponseHeaders(upstreamResponse.Headers, response.Headers);
        CopyResponseHeaders(upstreamResponse.Content.Headers, response.Headers);
        if (filter is not null || monitor is not null)
        {
            response.Headers.ContentLength = null;
        }

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var capture = new CaptureBuffer(_options.MaxCaptureBytes, _options.CaptureTailBytes);
        exchange.Response = capture;
        var buffer = ArrayPool<byte>.Shared.Rent(_options.CopyBufferBytes);
        var stages = new StreamRewriter(filter, monitor, _options.CopyBufferBytes);
        var body = response.Body;
        try
        {
            var upstreamBody = await upstreamResponse.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            await using (upstreamBody.ConfigureAwait(false))
            {
                while (true)
                {
                    idle.CancelAfter(idleTimeout);
                    int read;
                    try
                    {
                        read = await upstreamBody.ReadAsync(buffer, token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
                    {
                        if (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
                        {
                            // Nothing has reached the client yet (the reset came before the first byte it would see):
                            // it can still get an honest, provider-shaped error instead of a cut connection.
                            await FailBeforeFirstByteAsync(context, exchange, idle, ex).ConfigureAwait(false);
                            return;
                        }

                        OnStreamInterrupted(context, exchange, idle, ex);
                        return;
                    }

                    if (read == 0)
                    {
                        if (token.IsCancellationRequested)
                        {
                            // Cancelling a pending read can surface as end-of-stream rather than an exception: this is a
                            // cut-off stream (idle timeout or client gone), not a finished one, and must not look complete.
                            OnStreamInterrupted(context, exchange, idle, new OperationCanceledException(token));
                            return;
                        }

                        break;
                    }

                    exchange.TtftMs ??= timeProvider.GetElapsedTime(startedTimestamp).TotalMilliseconds;
                    var chunk = buffer.AsMemory(0, read);
                    capture.Append(chunk.Span);
                    try
                    {
                        await stages.WriteAsync(body, chunk, isEventStream, exchange, context.RequestAborted).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or IOException)
                    {
                        OnClientGone(exchange);
                        return;
                    }

                    if (monitor?.Stopped == true)
                    {
                        // The client has a normal finish; leaving the loop disposes the upstream response, which cancels the call.
                        exchange.Error = "stream_stopped: " + string.Join(
                            ",", monitor.Findings.Where(f => f.Severity >= monitorOptions.StopSeverity).Select(f => f.Type).Distinct());
                        logger.StreamStopped(exchange.TraceId, exchange.Error);
                        break;
                    }
                }
            }

            exchange.StreamFindings = monitor?.Findings ?? [];
            await stages.CompleteAsync(body, exchange, context.RequestAborted).ConfigureAwait(false);

            await response.CompleteAsync().ConfigureAwait(false);
            logger.UpstreamResponded(exchange.TraceId, exchange.Provider.ToWireName(), exchange.StatusCode,
                (long)timeProvider.GetElapsedTime(startedTimestamp).TotalMilliseconds, exchange.ResponseBytes);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            OnClientGone(exchange);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task FailBeforeFirstByteAsync(HttpContext context, CompletedExchange exchange, CancellationTokenSource idle, Exception ex)
    {
        var timedOut = idle.IsCancellationRequested;
        logger.UpstreamStreamFailed(exchange.TraceId, exchange.ResponseBytes, timedOut ? "idle_timeout" : ex.GetType().Name);
        context.Response.Clear(); // the upstream's status and headers were set, not sent
        context.Response.Headers[TraceIdHeader] = exchange.TraceId.ToString();
        if (timedOut)
        {
            await FailAsync(context, exchange, StatusCodes.Status504GatewayTimeout, "timeout", "upstream_timeout",
                $"The upstream went silent for {_options.IdleTimeoutSeconds} s before any of its answer could be sent.").ConfigureAwait(false);
        }
        else
        {
            await FailAsync(context, exchange, StatusCodes.Status502BadGateway, "upstream_error", "upstream_stream_error",
                "The upstream broke off its answer before any of it could be sent.").ConfigureAwait(false);
        }
    }

    private void OnStreamInterrupted(HttpContext context, CompletedExchange exchange, CancellationTokenSource idle, Exception ex)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            OnClientGone(exchange);
            return;
        }

        // The status line has gone out: the only honest signal left is to cut the client's connection.
        exchange.Error = idle.IsCancellationRequested ? "upstream_idle_timeout" : $"upstream_stream_error: {ex.GetType().Name}";
        logger.UpstreamStreamFailed(exchange.TraceId, exchange.ResponseBytes, idle.IsCancellationRequested ? "idle_timeout" : ex.GetType().Name);
        context.Abort();
    }

    private void OnClientGone(CompletedExchange exchange)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // The host's shutdown timeout ended the connection, not the client.
            exchange.Error = "gateway_shutdown";
            logger.EndedByShutdown(exchange.TraceId, exchange.ResponseBytes);
            return;
        }

        exchange.ClientCancelled = true;
        logger.ClientCancelled(exchange.TraceId, exchange.ResponseBytes);
    }

    private async Task FailAsync(HttpContext context, CompletedExchange exchange, int statusCode, string type, string code, string message)
    {
        exchange.StatusCode = statusCode;
        exchange.Error = code;
        await GatewayErrors.WriteAsync(context, exchange.Provider, statusCode, type, code, message).ConfigureAwait(false);
    }

    private async Task CaptureAsync(CompletedExchange exchange)
    {
        if (exchange.SkipTrace)
        {
            exchange.Response?.Dispose();
            return;
        }

        var settled = false;
        try
        {
            // Secrets (and PII, if so configured) are redacted here, before the trace is queued or stored anywhere.
            var built = traceBuilder.Build(exchange);
            // The guard's scan applies only to the very prompt string it scanned.
            var known = ReferenceEquals(built.Prompt, exchange.Request?.Prompt) ? exchange.GuardSensitiveMatches : null;
            var trace = redactor.Apply(built, exchange.Identity?.Tenant.PiiHandling, known);
            telemetry.Completed(exchange.Activity, trace, exchange.RouteName, exchange.Request?.Model);
            exchange.Activity = null;
            if (exchange.Admission is { } ticket)
            {
                admission.Complete(ticket, trace);
                settled = true;
            }

            // Not the client's token: a call the client abandoned still happened and may still cost money.
            await captureQueue.EnqueueAsync(trace, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The client already has its response; a capture failure must not turn into a failed call.
            logger.CaptureFailed(exchange.TraceId, ex);
        }
        finally
        {
            exchange.Activity?.Dispose();
            if (!settled && exchange.Admission is { } unsettled)
            {
                admission.Abandon(unsettled, exchange.TraceId);
            }

            exchange.Response?.Dispose();
        }
    }

    private static void CopyRequestHeaders(IHeaderDictionary source, HttpRequestMessage destination)
    {
        foreach (var (name, values) in source)
        {
            if (HopByHop.IsRequestHeaderDropped(name))
            {
                continue;
            }

            if (!destination.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values))
            {
                destination.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
            }
        }
    }

    private static void CopyResponseHeaders(HttpHeaders source, IHeaderDictionary destination)
    {
        foreach (var header in source.NonValidated)
        {
            if (HopByHop.IsHopByHop(header.Key))
            {
                continue;
            }

            destination[header.Key] = header.Value.Count == 1 ? header.Value.ToString() : header.Value.ToArray();
        }
    }

    private static bool HasBody(HttpRequest request, int length)
        => length > 0 || request.ContentLength is not null || request.Headers.ContainsKey(HeaderNames.TransferEncoding);

    private static bool IsJsonOrUnspecified(string? contentType)
        => string.IsNullOrEmpty(contentType) || contentType.Contains("json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The first byte after any whitespace opens a JSON object or array.</summary>
    private static bool LooksLikeJson(ReadOnlySpan<byte> body)
    {
        var start = body.IndexOfAnyExcept(" \t\r\n"u8);
        return start >= 0 && body[start] is (byte)'{' or (byte)'[';
    }
}
