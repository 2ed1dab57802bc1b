using System.Buffers;
using System.Text;
using LlmTrace.Domain.Proxy;

namespace LlmTrace.Tests.Proxy;

public sealed class StreamUsageTests
{
    [Theory]
    [InlineData("""{"model":"m","stream":true}""", """{"model":"m","stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("""{ "stream" : true }  """, """{ "stream" : true ,"stream_options":{"include_usage":true}}  """)]
    [InlineData("""{"stream":true,"stream_options":{}}""", """{"stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("""{"stream":true,"stream_options":{"include_obfuscation":false}}""", """{"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}""")]
    [InlineData("""{"messages":[{"content":"}"}],"stream":true}""", """{"messages":[{"content":"}"}],"stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("{}", """{"stream_options":{"include_usage":true}}""")]
    public void TryRewrite_RequestWithoutIncludeUsage_InsertsItAndKeepsEveryOtherByte(string body, string expected)
    {
        var rewritten = StreamUsageRequestRewriter.TryRewrite(Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, Encoding.UTF8.GetString(rewritten!));
    }

    [Theory]
    [InlineData("""{"stream":true,"stream_options":{"include_usage":false}}""")]
    [InlineData("""{"stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("""{"stream":true,"stream_options":null}""")]
    [InlineData("""{"stream":true""")]
    [InlineData("[1,2]")]
    public void TryRewrite_ClientDecidedOrBodyUnusable_LeavesBodyAlone(string body)
        => Assert.Null(StreamUsageRequestRewriter.TryRewrite(Encoding.UTF8.GetBytes(body)));

    private const string Upstream =
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}],\"usage\":null}\n\n" +
        ": keep-alive comment\n\n" +
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}], \"usage\": null}\r\n\r\n" +
        "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\n" +
        "data: [DONE]\n\n";

    private const string Expected =
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n" +
        ": keep-alive comment\n\n" +
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\n\r\n" +
        "data: [DONE]\n\n";

    [Fact]
    public void Filter_StreamSplitAtEveryByte_DropsUsageChunkAndNullUsageWhateverTheChunking()
    {
        var bytes = Encoding.UTF8.GetBytes(Upstream);
        for (var split = 0; split <= bytes.Length; split++)
        {
            using var filter = new StreamUsageFilter();
            var output = new ArrayBufferWriter<byte>();
            filter.Process(bytes.AsSpan(0, split), output);
            filter.Process(bytes.AsSpan(split), output);
            filter.Complete(output);

            Assert.Equal(Expected, Encoding.UTF8.GetString(output.WrittenSpan));
        }
    }

    [Fact]
    public void Filter_ByteAtATime_EmitsEachEventAsSoonAsItIsComplete()
    {
        var bytes = Encoding.UTF8.GetBytes(Upstream);
        using var filter = new StreamUsageFilter();
        var output = new ArrayBufferWriter<byte>();
        var firstEventEnd = Upstream.IndexOf("\n\n", StringComparison.Ordinal) + 2;
        for (var i = 0; i < bytes.Length; i++)
        {
            filter.Process(bytes.AsSpan(i, 1), output);
            if (i + 1 == firstEventEnd)
            {
                Assert.EndsWith("}]}\n\n", Encoding.UTF8.GetString(output.WrittenSpan), StringComparison.Ordinal);
            }
        }

        filter.Complete(output);
        Assert.Equal(Expected, Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
