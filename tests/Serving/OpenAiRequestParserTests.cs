using System.Text;
using PdRdma.Engines.Serving;

namespace PdRdma.Tests.Serving;

/// <summary>Hostile and unusual request bodies: each is refused with a 4xx naming the field, never ignored or a 500.</summary>
public sealed class OpenAiRequestParserTests
{
    private static readonly ServingLimits Limits = new() { MaxPromptBytes = 1000, MaxChoices = 4, MaxStopStrings = 2, MaxStopLength = 8 };

    private static ServingException Refused(string json, bool chat = false) =>
        Assert.Throws<ServingException>(() => OpenAiRequestParser.Parse(Encoding.UTF8.GetBytes(json), chat, Limits));

    [Theory]
    [InlineData("not json", null, "invalid_json")]
    [InlineData("[1,2]", null, "invalid_json")]
    [InlineData("{}", "prompt", "missing_required_parameter")]
    [InlineData("{\"prompt\":5}", "prompt", null)]
    [InlineData("{\"prompt\":[\"a\",\"b\"]}", "prompt", null)]
    [InlineData("{\"prompt\":[1,-2]}", "prompt", null)]
    [InlineData("{\"prompt\":\"x\",\"temperature\":-1}", "temperature", null)]
    [InlineData("{\"prompt\":\"x\",\"temperature\":2.01}", "temperature", null)]
    [InlineData("{\"prompt\":\"x\",\"temperature\":\"hot\"}", "temperature", null)]
    [InlineData("{\"prompt\":\"x\",\"top_p\":0}", "top_p", null)]
    [InlineData("{\"prompt\":\"x\",\"max_tokens\":0}", "max_tokens", null)]
    [InlineData("{\"prompt\":\"x\",\"max_tokens\":99999999999}", "max_tokens", null)]
    [InlineData("{\"prompt\":\"x\",\"n\":5}", "n", null)]
    [InlineData("{\"prompt\":\"x\",\"stop\":[\"a\",\"b\",\"c\"]}", "stop", null)]
    [InlineData("{\"prompt\":\"x\",\"stop\":\"far too long a stop\"}", "stop", null)]
    [InlineData("{\"prompt\":\"x\",\"stop\":7}", "stop", null)]
    [InlineData("{\"prompt\":\"x\",\"logprobs\":2}", "logprobs", "unsupported_parameter")]
    [InlineData("{\"prompt\":\"x\",\"echo\":true}", "echo", "unsupported_parameter")]
    [InlineData("{\"prompt\":\"x\",\"best_of\":3}", "best_of", "unsupported_parameter")]
    [InlineData("{\"prompt\":\"x\",\"stream\":\"yes\"}", "stream", null)]
    [InlineData("{\"prompt\":\"x\",\"stream_options\":{\"include_usage\":true}}", "stream_options", null)]
    [InlineData("{\"prompt\":\"x\",\"seed\":1.5}", "seed", null)]
    [InlineData("{\"prompt\":\"x\",\"model\":3}", "model", null)]
    [InlineData("{\"prompt\":\"x\",\"presence_penalty\":1}", "presence_penalty", "unsupported_parameter")]
    public void CompletionRefusals(string json, string? param, string? code)
    {
        var e = Refused(json);
        Assert.Equal(400, e.Status);
        Assert.Equal("invalid_request_error", e.Type);
        Assert.Equal(param, e.Param);
        if (code is not null) Assert.Equal(code, e.ErrorCode);
    }

    [Theory]
    [InlineData("{\"prompt\":\"x\"}", "messages")]
    [InlineData("{\"messages\":[]}", "messages")]
    [InlineData("{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "messages[0].role")]
    [InlineData("{\"messages\":[{\"role\":\"user\"}]}", "messages[0].content")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "messages[0].content")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{}]}", "tools")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_completion_tokens\":0}", "max_completion_tokens")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logprobs\":true}", "logprobs")]
    public void ChatRefusals(string json, string param)
    {
        var e = Refused(json, chat: true);
        Assert.Equal(400, e.Status);
        Assert.Equal(param, e.Param);
    }

    [Fact]
    public void PromptSizeIsCheckedBeforeTokenising()
    {
        var e = Refused("{\"prompt\":\"" + new string('a', 1001) + "\"}");
        Assert.Equal("prompt_too_long", e.ErrorCode);
        var multiByte = Refused("{\"prompt\":\"" + string.Concat(Enumerable.Repeat("é", 501)) + "\"}"); // 1002 UTF-8 bytes
        Assert.Equal("prompt_too_long", multiByte.ErrorCode);
        Assert.Throws<ServingException>(() => OpenAiRequestParser.Parse(Encoding.UTF8.GetBytes("{\"prompt\":[" + string.Join(",", Enumerable.Repeat(1, 1001)) + "]}"), false, Limits));
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100);
        Assert.Equal("invalid_json", Refused(deep).ErrorCode);
    }

    [Fact]
    public void AcceptedShapesAreNormalised()
    {
        var r = OpenAiRequestParser.Parse(Encoding.UTF8.GetBytes("{\"prompt\":[[1,2,3]],\"max_tokens\":7,\"n\":2,\"seed\":-5,\"stop\":\"\\n\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"temperature\":0}"), false, Limits);
        Assert.Equal([1, 2, 3], r.PromptTokens!);
        Assert.Equal(7, r.MaxTokens);
        Assert.Equal(2, r.N);
        Assert.Equal(["\n"], r.Stop);
        Assert.True(r.IncludeUsage);
        Assert.Equal(0f, r.Temperature);
        var chat = OpenAiRequestParser.Parse(Encoding.UTF8.GetBytes("{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}],\"max_completion_tokens\":9,\"max_tokens\":3}"), true, Limits);
        Assert.Equal("Be kind.\nHi", chat.PromptText);
        Assert.Equal(9, chat.MaxTokens);
        Assert.Equal(1f, chat.Temperature); // OpenAI's default
    }
}
