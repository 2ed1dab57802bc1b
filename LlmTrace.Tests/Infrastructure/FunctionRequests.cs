using System.Text;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>A <see cref="DefaultHttpContext"/> as the Functions worker would hand a function (the host is not run here).</summary>
public static class FunctionRequests
{
    public static DefaultHttpContext Create(IServiceProvider services, string method, string path, string? jsonBody, Stream responseBody)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("gateway.example");
        context.Request.Path = path;
        if (jsonBody is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(jsonBody);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentLength = bytes.Length;
            context.Request.ContentType = "application/json";
        }

        context.Response.Body = responseBody;
        return context;
    }
}
