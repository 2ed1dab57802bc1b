using System.Net;
using System.Text.Json;
using LlmTrace.Domain.Management;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Management;

/// <summary>The management API on SelfHost with an admin key: tenants, keys, roles, cross-tenant denial, audit, reports, stats, OpenAPI.</summary>
public sealed class TenantApiTests : IAsyncLifetime
{
    private const string AdminKey = "tenant-api-admin";
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?> { ["LlmTrace:AdminKey"] = AdminKey });
        _http = _gateway.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ApiClient Admin => new(_http, AdminKey);

    [Fact]
    public async Task EveryRoute_WithAnotherTenantsKey_IsDenied()
    {
        var a = await NewTenantAsync("tenant-a");
        var b = await NewTenantAsync("tenant-b");
        var bKey = await NewKeyAsync(b, "app");
        var bTrace = await CallAsync(bKey);
        var bKeyId = bKey.Split('_')[1];
        var aAdmin = new ApiClient(_http, await NewKeyAsync(a, "tenant-admin"));
        var aViewer = new ApiClient(_http, await NewKeyAsync(a, "viewer"));

        foreach (var (method, template) in ManagementApi.Routes.Where(r => r.Template != "/api/openapi.json"))
        {
            var path = template.Replace("{tenantId}", b.ToString(), StringComparison.Ordinal)
                .Replace("{keyId}", bKeyId, StringComparison.Ordinal)
                .Replace("{traceId}", bTrace.ToString(), StringComparison.Ordinal);
            if (!template.Contains("{tenantId}", StringComparison.Ordinal) && template != "/api/tenants")
            {
                path += (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "tenantId=" + b;
            }

            var body = method is "POST" or "PATCH" or "PUT" ? BodyFor(template) : null;
            foreach (var client in new[] { aAdmin, aViewer })
            {
                var reply = await client.SendAsync(new HttpMethod(method), path, body);
                if (template == "/api/tenants" && method == "GET")
                {
                    // Listing is allowed, but shows only the caller's own tenant.
                    Assert.Equal(HttpStatusCode.OK, reply.Status);
                    Assert.All(reply.Json.GetProperty("items").EnumerateArray(), t => Assert.Equal(a, t.GetProperty("tenantId").GetGuid()));
                    continue;
                }

                if (template == "/api/me")
                {
                    // Only ever about the caller: a tenantId in the query changes nothing.
                    Assert.Equal(HttpStatusCode.OK, reply.Status);
                    Assert.Equal(a, reply.Json.GetProperty("tenantId").GetGuid());
                    continue;
                }

                Assert.True(reply.Status is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"{method} {path}: {(int)reply.Status} {reply.Text}");
                Assert.DoesNotContain("tenant-b", reply.Text, StringComparison.Ordinal);
            }
        }

        // Nothing of B's was changed or revealed: its key still works and its settings are as created.
        Assert.NotEqual(Guid.Empty, await CallAsync(bKey));
        Assert.Equal("tenant-b", (await Admin.GetAsync($"/api/tenants/{b}")).Json.GetProperty("name").GetString());
    }

    [Fact]
    public async Task OwnTenant_TenantAdminManagesKeysAndAgentBudgets_ViewerOnlyReads_AppKeyNothing()
    {
        var a = await NewTenantAsync("own");
        var tenantAdmin = new ApiClient(_http, await NewKeyAsync(a, "tenant-admin"));
        var viewer = new ApiClient(_http, await NewKeyAsync(a, "viewer"));
        var app = new ApiClient(_http, await NewKeyAsync(a, "app"));

        var newKey = await tenantAdmin.PostAsync($"/api/tenants/{a}/keys", """{"name":"ci","roles":["app"]}""");
        var adminKeyAttempt = await tenantAdmin.PostAsync($"/api/tenants/{a}/keys", """{"roles":["admin"]}""");
        var renamed = await tenantAdmin.PatchAsync($"/api/tenants/{a}", """{"name":"own-renamed"}""");
        var raiseOwnCap = await tenantAdmin.PatchAsync($"/api/tenants/{a}", """{"budgets":{"daily":{"hardUsd":1000}}}""");
        var loosen = await tenantAdmin.PatchAsync($"/api/tenants/{a}", """{"monitoringScope":"output_only","piiHandling":"keep","retentionDays":1}""");
        var agentBudget = await tenantAdmin.PutAsync($"/api/tenants/{a}/budget", """{"agentBudgets":{"*":{"daily":{"hardUsd":1}}}}""");
        var viewerReadsBudget = await viewer.GetAsync($"/api/tenants/{a}/budget");
        var viewerWrites = await viewer.PatchAsync($"/api/tenants/{a}", """{"name":"x"}""");
        var viewerKeys = await viewer.GetAsync($"/api/tenants/{a}/keys");
        var appReads = await app.GetAsync("/api/traces");
        var createTenant = await tenantAdmin.PostAsync("/api/tenants", """{"name":"another"}""");

        Assert.Equal(HttpStatusCode.Created, newKey.Status);
        Assert.StartsWith("ltk_", newKey.Json.GetProperty("secret").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, adminKeyAttempt.Status);
        Assert.Equal("own-renamed", renamed.Json.GetProperty("name").GetString());
        // Scope, PII handling and retention could switch off blocking, redaction or evidence: administrators only.
        Assert.Equal(HttpStatusCode.BadRequest, loosen.Status);
        Assert.Equal(["monitoringScope", "piiHandling", "retentionDays"], loosen.Json.GetProperty("error").GetProperty("fields").EnumerateObject().Select(f => f.Name).Order());
        Assert.Equal(HttpStatusCode.BadRequest, raiseOwnCap.Status);
        Assert.True(raiseOwnCap.Json.GetProperty("error").GetProperty("fields").TryGetProperty("budgets", out _));
        Assert.Equal(HttpStatusCode.OK, agentBudget.Status);
        Assert.Equal(HttpStatusCode.OK, viewerReadsBudget.Status);
        Assert.Equal(HttpStatusCode.Forbidden, viewerWrites.Status);
        Assert.Equal(HttpStatusCode.Forbidden, viewerKeys.Status);
        Assert.Equal(HttpStatusCode.Forbidden, appReads.Status);
        Assert.Equal(HttpStatusCode.Forbidden, createTenant.Status);
    }

    [Fact]
    public async Task Validation_ReportsEveryBadFieldByName()
    {
        var missingName = await Admin.PostAsync("/api/tenants", """{"retentionDays":0,"budgets":{"yearly":{"hardUsd":5},"daily":{"softUsd":10,"hardUsd":5}},"rateLimits":{"requestsPerMinute":-1},"alertWebhooks":["ftp://x"],"providerKeys":{"bedrock":"x"}}""");
        var unknownField = await Admin.PostAsync("/api/tenants", """{"name":"x","colour":"blue"}""");
        var badEnum = await Admin.PostAsync("/api/tenants", """{"name":"x","monitoringScope":"everything"}""");
        var notJson = await Admin.PostAsync("/api/tenants", "{name:");
        var badRole = await Admin.PostAsync($"/api/tenants/{await NewTenantAsync("v")}/keys", """{"roles":["root"]}""");

        var fields = missingName.Json.GetProperty("error").GetProperty("fields");
        Assert.Equal(HttpStatusCode.BadRequest, missingName.Status);
        Assert.Equal("validation_failed", missingName.ErrorCode);
        foreach (var field in new[] { "name", "retentionDays", "budgets.yearly", "budgets.daily.softUsd", "rateLimits.requestsPerMinute", "alertWebhooks[0]", "providerKeys.bedrock" })
        {
            Assert.True(fields.TryGetProperty(field, out _), field + " in " + missingName.Text);
        }

        Assert.True(unknownField.Json.GetProperty("error").GetProperty("fields").TryGetProperty("colour", out _), unknownField.Text);
        Assert.True(badEnum.Json.GetProperty("error").GetProperty("fields").TryGetProperty("monitoringScope", out _), badEnum.Text);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.Status);
        Assert.True(badRole.Json.GetProperty("error").GetProperty("fields").TryGetProperty("roles[0]", out _), badRole.Text);
    }

    [Fact]
    public async Task UnknownIds_Are404_AndWrongMethodsAre405()
    {
        var missing = Guid.NewGuid();
        var a = await NewTenantAsync("known");

        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/api/tenants/{missing}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.PatchAsync($"/api/tenants/{missing}", """{"name":"x"}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.DeleteAsync($"/api/tenants/{missing}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.PostAsync($"/api/tenants/{missing}/keys", "{}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.DeleteAsync($"/api/tenants/{a}/keys/abcdefghijkm")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/api/tenants/{missing}/budget")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("/api/nothing-here")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Admin.GetAsync("/api/tenants/not-a-uuid")).Status);
        var wrongMethod = await Admin.PutAsync("/api/tenants", "{}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.Status);
        Assert.Equal(["GET", "POST"], wrongMethod.Header("Allow")!.Split(',', StringSplitOptions.TrimEntries));
        Assert.Equal(HttpStatusCode.Conflict, (await Admin.PostAsync("/api/tenants", $$"""{"tenantId":"{{a}}","name":"again"}""")).Status);
    }

    [Fact]
    public async Task Tenants_PageWithContinuationTokens_AndIfMatchGuardsUpdates()
    {
        var created = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await NewTenantAsync("page-" + i));
        }

        var seen = new List<Guid>();
        string? token = null;
        do
        {
            var page = await Admin.GetAsync("/api/tenants?limit=2" + (token is null ? "" : "&continuationToken=" + Uri.EscapeDataString(token)));
            Assert.InRange(page.Json.GetProperty("items").GetArrayLength(), 0, 2);
            seen.AddRange(page.Json.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("tenantId").GetGuid()));
            token = page.Json.GetProperty("continuationToken").ValueKind == JsonValueKind.String ? page.Json.GetProperty("continuationToken").GetString() : null;
        }
        while (token is not null);

        Assert.Subset(seen.ToHashSet(), created.ToHashSet());
        Assert.Equal(seen.Count, seen.Distinct().Count());

        var read = await Admin.GetAsync($"/api/tenants/{created[0]}");
        var etag = read.Header("ETag")!;
        var first = await Admin.SendAsync(HttpMethod.Patch, $"/api/tenants/{created[0]}", """{"name":"first"}""", new Dictionary<string, string> { ["If-Match"] = etag });
        var stale = await Admin.SendAsync(HttpMethod.Patch, $"/api/tenants/{created[0]}", """{"name":"stale"}""", new Dictionary<string, string> { ["If-Match"] = etag });

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.Status);
        Assert.Equal("first", (await Admin.GetAsync($"/api/tenants/{created[0]}")).Json.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Audit_RecordsEveryWrite_WithActorAndChangedFields_NeverValues()
    {
        var a = await NewTenantAsync("audited");
        var key = await NewKeyAsync(a, "tenant-admin");
        var tenantAdmin = new ApiClient(_http, key);
        await tenantAdmin.PatchAsync($"/api/tenants/{a}", """{"alertWebhooks":["https://hooks.example/secret-path"]}""");
        await tenantAdmin.DeleteAsync($"/api/tenants/{a}/keys/{key.Split('_')[1]}");
        var other = await NewTenantAsync("other-audited");

        var all = await Admin.GetAsync($"/api/audit?tenantId={a}");
        var entries = all.Json.GetProperty("items").EnumerateArray().ToList();

        Assert.Equal(["tenant.create", "key.create", "tenant.update", "key.revoke"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal("admin", entries[0].GetProperty("actor").GetString());
        Assert.Equal("key:" + key.Split('_')[1], entries[2].GetProperty("actor").GetString());
        Assert.Equal(["alertWebhooks"], entries[2].GetProperty("changes").EnumerateArray().Select(c => c.GetString()));
        Assert.DoesNotContain("secret-path", all.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(entries, e => e.GetProperty("tenantId").GetString() == other.ToString());
    }

    [Fact]
    public async Task SpendFindingsAndCompliance_ReportWhatHappened_InJsonAndCsv()
    {
        var a = await NewTenantAsync("reports");
        var key = await NewKeyAsync(a, "tenant-admin");
        var client = new ApiClient(_http, key);
        var traces = new List<Guid>
        {
            await CallAsync(key, agent: "planner"),
            await CallAsync(key, agent: "writer"),
            await CallAsync(key, agent: "writer", content: "My card is 4111 1111 1111 1111, thanks"),
        };
        foreach (var id in traces)
        {
            await WaitProcessedAsync(id);
        }

        var byAgent = await client.GetAsync("/api/spend?groupBy=agent");
        var byModel = await client.GetAsync("/api/spend");
        var findings = await client.GetAsync("/api/findings?type=pii");
        var compliance = await client.GetAsync("/api/reports/compliance");
        var csv = await client.GetAsync("/api/reports/compliance?format=csv");

        Assert.Equal(HttpStatusCode.OK, byAgent.Status);
        var agents = byAgent.Json.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("key").GetString()!, g => g.GetProperty("requests").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["writer"] = 2, ["planner"] = 1 }, agents);
        Assert.True(byModel.Json.GetProperty("totalUsd").GetDecimal() > 0);
        Assert.Equal("gpt-4o-mini", byModel.Json.GetProperty("groups")[0].GetProperty("key").GetString());
        var finding = findings.Json.GetProperty("items").EnumerateArray().Single();
        Assert.Equal(traces[2], finding.GetProperty("traceId").GetGuid());
        Assert.DoesNotContain("4111 1111 1111 1111", findings.Text, StringComparison.Ordinal);
        Assert.Equal(3, compliance.Json.GetProperty("requests").GetInt64());
        Assert.Equal(1, compliance.Json.GetProperty("piiExposures").GetInt64());
        Assert.Contains(compliance.Json.GetProperty("managementActions").EnumerateArray(), r => r.GetProperty("key").GetString() == "key.create");
        Assert.Equal("text/csv", csv.ContentHeaders!.ContentType!.MediaType);
        Assert.StartsWith("section,key,value\n", csv.Text, StringComparison.Ordinal);
        Assert.Contains("requests,total,3\n", csv.Text, StringComparison.Ordinal);
        Assert.Contains("pii,exposures,1\n", csv.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApiDocument_ListsExactlyTheRoutesTheRouterServes()
    {
        var reply = await new ApiClient(_http).GetAsync("/api/openapi.json");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("3.1.0", reply.Json.GetProperty("openapi").GetString());
        var documented = reply.Json.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => (m.Name.ToUpperInvariant(), p.Name)))
            .ToHashSet();
        Assert.Equal(ManagementApi.Routes.ToHashSet(), documented);
    }

    [Fact]
    public async Task WriteBodiesMustBeJson_SoACrossSiteFormCannotPostThem()
    {
        var reply = await Admin.SendAsync(HttpMethod.Post, "/api/tenants", null, new Dictionary<string, string>());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tenants") { Content = new StringContent("""{"name":"csrf"}""", System.Text.Encoding.UTF8, "text/plain") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
        using var textPlain = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, reply.Status);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, textPlain.StatusCode);
    }

    [Fact]
    public async Task TenantAdmin_CannotRevokeAnAdminKey_NorRegisterAnInternalWebhook()
    {
        var a = await NewTenantAsync("guarded");
        var adminKey = await NewKeyAsync(a, "admin");
        var tenantAdmin = new ApiClient(_http, await NewKeyAsync(a, "tenant-admin"));

        var revoke = await tenantAdmin.DeleteAsync($"/api/tenants/{a}/keys/{adminKey.Split('_')[1]}");
        var internalHook = await tenantAdmin.PatchAsync($"/api/tenants/{a}", """{"alertWebhooks":["http://169.254.169.254/latest","https://10.0.0.5/hook","https://localhost/x"]}""");
        var badKeyId = await Admin.DeleteAsync($"/api/tenants/{a}/keys/not%23valid");

        Assert.Equal(HttpStatusCode.Forbidden, revoke.Status);
        Assert.Equal(HttpStatusCode.OK, (await new ApiClient(_http, adminKey).GetAsync("/api/tenants")).Status);
        var fields = internalHook.Json.GetProperty("error").GetProperty("fields");
        Assert.Equal(3, fields.EnumerateObject().Count());
        Assert.Equal(HttpStatusCode.NotFound, badKeyId.Status);
    }

    [Fact]
    public async Task WindowAndProviderNames_MatchRegardlessOfCase()
    {
        var key = TestKeys.NewKey();
        var id = TestKeys.TenantOf(key);
        Assert.Equal(HttpStatusCode.Created, (await Admin.PostAsync("/api/tenants", """{"tenantId":"ID","name":"cased","budgets":{"Daily":{"hardUsd":0.000001}}}""".Replace("ID", id.ToString(), StringComparison.Ordinal))).Status);
        var client = new ApiClient(_http, key);

        Assert.Equal(HttpStatusCode.OK, (await client.ChatAsync(maxTokens: 8)).Status);
        var second = await client.ChatAsync(maxTokens: 8);

        Assert.Equal(HttpStatusCode.TooManyRequests, second.Status);
        Assert.Equal("daily", (await Admin.GetAsync($"/api/tenants/{id}")).Json.GetProperty("budgets").EnumerateObject().Single().Name);
    }

    [Fact]
    public async Task Stats_CountCallsErrorsAndFindings_PerTenantAndForAll()
    {
        var a = await NewTenantAsync("stats-a");
        var b = await NewTenantAsync("stats-b");
        var aKey = await NewKeyAsync(a, "app");
        var bKey = await NewKeyAsync(b, "app");
        await CallAsync(aKey, "planner");
        await CallAsync(aKey, "writer", "My card is 4111 1111 1111 1111");
        await CallAsync(aKey, "writer", mode: "status:500", expected: HttpStatusCode.InternalServerError);
        await CallAsync(bKey, "other");

        var aStats = await PollStatsAsync(new ApiClient(_http, await NewKeyAsync(a, "viewer")), "/api/stats", expected: 3);
        var all = await PollStatsAsync(Admin, "/api/stats?bucket=minute", expected: 4);
        var otherTenant = await new ApiClient(_http, await NewKeyAsync(a, "viewer")).GetAsync($"/api/stats?tenantId={b}");

        var totals = aStats.GetProperty("totals");
        Assert.Equal(a, aStats.GetProperty("tenantId").GetGuid());
        Assert.Equal(1, totals.GetProperty("serverErrors").GetInt64());
        Assert.Equal(1, totals.GetProperty("flaggedRequests").GetInt64());
        Assert.True(totals.GetProperty("costUsd").GetDecimal() > 0);
        Assert.True(totals.GetProperty("latencyP50Ms").GetDouble() > 0);
        Assert.Equal("minute", aStats.GetProperty("bucket").GetString());
        // The last hour by minute, empty minutes included: 60 whole minutes and (almost always) the one under way.
        Assert.InRange(aStats.GetProperty("points").GetArrayLength(), 60, 61);
        Assert.Equal(3, aStats.GetProperty("points").EnumerateArray().Sum(p => p.GetProperty("requests").GetInt64()));
        Assert.Equal(["writer", "planner"], aStats.GetProperty("agents").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.False(aStats.TryGetProperty("tenants", out _));
        Assert.Contains(all.GetProperty("tenants").EnumerateArray(), t => t.GetProperty("name").GetString() == b.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, otherTenant.Status);
    }

    [Theory]
    [InlineData("bucket=week", "bucket")]
    [InlineData("from=2027-01-01T00:00:00Z&to=2027-03-01T00:00:00Z&bucket=minute", "bucket")]
    [InlineData("from=2027-03-01T00:00:00Z&to=2027-01-01T00:00:00Z", "from")]
    [InlineData("from=yesterday", "from")]
    public async Task Stats_BadRange_IsA400NamingTheField(string query, string field)
    {
        var reply = await Admin.GetAsync("/api/stats?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal(field, reply.Json.GetProperty("error").GetProperty("param").GetString());
    }

    private static async Task<JsonElement> PollStatsAsync(ApiClient client, string path, long expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var reply = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            if (reply.Json.GetProperty("totals").GetProperty("requests").GetInt64() >= expected || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expected, reply.Json.GetProperty("totals").GetProperty("requests").GetInt64());
                return reply.Json;
            }

            await Task.Delay(50);
        }
    }

    private async Task<Guid> NewTenantAsync(string name)
    {
        var reply = await Admin.PostAsync("/api/tenants", $$"""{"name":"{{name}}"}""");
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        return reply.Json.GetProperty("tenantId").GetGuid();
    }

    private async Task<string> NewKeyAsync(Guid tenant, string role)
    {
        var reply = await Admin.PostAsync($"/api/tenants/{tenant}/keys", $$"""{"roles":["{{role}}"]}""");
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        return reply.Json.GetProperty("secret").GetString()!;
    }

    /// <summary>A proxied call in pass-through mode identified by a gateway key in x-llmtrace-key; returns its trace id.</summary>
    private async Task<Guid> CallAsync(string gatewayKey, string? agent = null, string content = "Say hello", string? mode = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var headers = new Dictionary<string, string> { ["x-llmtrace-key"] = gatewayKey };
        if (mode is not null)
        {
            headers["x-fake-mode"] = mode; // the fake upstream's answer
        }

        var reply = await new ApiClient(_http, TestKeys.NewKey()).ChatAsync(agent, content: content, headers: headers);
        Assert.Equal(expected, reply.Status);
        return Guid.Parse(reply.Header("x-llmtrace-trace-id")!);
    }

    private async Task WaitProcessedAsync(Guid traceId)
    {
        for (var i = 0; i < 500; i++)
        {
            if (await _gateway.Store.GetAsync(traceId, CancellationToken.None) is { Priced: not null })
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"Trace {traceId} was not processed.");
    }

    private static string BodyFor(string template) => template switch
    {
        "/api/tenants" => """{"name":"intruder"}""",
        "/api/tenants/{tenantId}" => """{"name":"hijacked"}""",
        "/api/tenants/{tenantId}/keys" => """{"roles":["app"]}""",
        "/api/tenants/{tenantId}/budget" => """{"agentBudgets":{"*":{"daily":{"hardUsd":0.01}}}}""",
        _ => "{}",
    };
}
