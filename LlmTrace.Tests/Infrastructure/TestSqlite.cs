using LlmTrace.SelfHost.Infrastructure;
using Microsoft.Extensions.Options;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>SQLite files for tests: each a fresh file under the temp folder, its schema created.</summary>
internal static class TestSqlite
{
    public static string NewPath(string name) => Path.Combine(Path.GetTempPath(), "llmtrace-tests", $"{name}-{Guid.NewGuid():N}.db");

    public static async Task<SqliteDatabase> CreateAsync(string name)
    {
        var database = new SqliteDatabase(Options.Create(new SqliteOptions { Path = NewPath(name) }));
        await database.InitializeAsync(CancellationToken.None);
        return database;
    }
}
