using System.Net;
using System.Text;
using LlmTrace.Functions.Infrastructure;
using Microsoft.Azure.Cosmos;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>
/// @vercel/cosmosdb-server, started by scripts/test.sh on loopback (LLMTRACE_TEST_COSMOS). Test-only help for its gaps:
/// Gateway mode limited to its endpoint, and a handler that answers the SDK's query-plan request with a pass-through
/// plan, which the emulator does not understand.
/// </summary>
public static class CosmosEmulator
{
    public const string Key = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

    public static string Endpoint => Environment.GetEnvironmentVariable("LLMTRACE_TEST_COSMOS") ?? "http://127.0.0.1:8181/";

    public static CosmosClient CreateClient(CosmosOptions options) => CosmosClientFactory.Create(options, o =>
    {
        o.ConnectionMode = ConnectionMode.Gateway;
        o.LimitToEndpoint = true;
        o.HttpClientFactory = () => new HttpClient(new QueryPlanHandler { InnerHandler = new SocketsHttpHandler() });
    });

    /// <summary>A database and container of their own (created here, in tests only).</summary>
    public static async Task<(CosmosClient Client, Container Container, CosmosOptions Options)> CreateContainerAsync()
    {
        var options = new CosmosOptions
        {
            ConnectionString = $"AccountEndpoint={Endpoint};AccountKey={Key};",
            Database = "db" + Guid.NewGuid().ToString("N")[..8],
            Container = "traces",
        };
        var client = CreateClient(options);
        try
        {
            var database = (await client.CreateDatabaseIfNotExistsAsync(options.Database)).Database;
            var container = (await database.CreateContainerIfNotExistsAsync(new ContainerProperties(options.Container, "/tenantId") { DefaultTimeToLive = -1 })).Container;
            return (client, container, options);
        }
        catch (HttpRequestException ex)
        {
            throw new InvalidOperationException("The Cosmos DB emulator is not reachable. Run the tests with ./scripts/test.sh, which starts it.", ex);
        }
    }

    private sealed class QueryPlanHandler : DelegatingHandler
    {
        private const string PassThroughPlan = """
            {"partitionedQueryExecutionInfoVersion":2,"queryInfo":{"distinctType":"None","top":null,"offset":null,"limit":null,"orderBy":[],"orderByExpressions":[],"groupByExpressions":[],"groupByAliases":[],"aggregates":[],"groupByAliasToAggregateType":{},"rewrittenQuery":"","hasSelectValue":false,"dCountInfo":null,"hasNonStreamingOrderBy":false},"queryRanges":[{"min":"","max":"FF","isMinInclusive":true,"isMaxInclusive":false}]}
            """;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Headers.TryGetValues("x-ms-cosmos-is-query-plan-request", out var values) && values.Any(v => v.Equals("True", StringComparison.OrdinalIgnoreCase)))
            {
                var plan = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(PassThroughPlan, Encoding.UTF8, "application/json"), RequestMessage = request };
                plan.Headers.TryAddWithoutValidation("x-ms-cosmos-query-requiresdistribution", "false");
                return plan;
            }

            var response = await base.SendAsync(request, cancellationToken);
            response.Headers.TryAddWithoutValidation("x-ms-cosmos-query-requiresdistribution", "false");
            return response;
        }
    }
}
