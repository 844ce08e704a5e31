using PdRdma.Engines.Serving;

namespace PdRdma.Tests.Serving;

public sealed class StopMatcherTests
{
    [Fact]
    public void HoldsBackAPossibleStopAndCutsAtTheMatch()
    {
        var m = new StopMatcher(["END", "\n\n"]);
        Assert.Equal("Once", m.Push("Once"));
        Assert.Equal(" up", m.Push(" upE"));   // "E" may start "END"
        Assert.Equal("En", m.Push("n"));       // "En" is not "EN": released
        Assert.Equal("", m.Push("\n"));
        Assert.Equal("\n", m.Push("END rest")); // the text before "END"; nothing after it
        Assert.True(m.Matched);
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void TextSplitAcrossPiecesMatchesAndEarliestStopWins()
    {
        var m = new StopMatcher(["lo w", "world"]);
        var sent = m.Push("hel") + m.Push("lo") + m.Push(" wor") + m.Push("ld");
        Assert.Equal("hel", sent);
        Assert.True(m.Matched);
        var none = new StopMatcher([]);
        Assert.Equal("abc", none.Push("abc"));
        var tail = new StopMatcher(["xyz"]);
        Assert.Equal("ab", tail.Push("abx"));
        Assert.Equal("x", tail.Flush());
    }
}
