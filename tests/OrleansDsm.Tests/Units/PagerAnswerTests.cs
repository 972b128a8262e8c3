using OrleansDsm.Mapping;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// How the client reads the pager's one-line answers: <c>ok</c> and its result, <c>error</c> with the exception's type
/// and message, and any other line (something else wrote to the pager's output) whole, so that the error the client
/// raises shows all of it.
/// </summary>
public sealed class PagerAnswerTests
{
    [Theory]
    [InlineData("ok", "ok", "", "")]
    [InlineData("ok 3 12", "ok", "", "3 12")]
    [InlineData("error RegionFreedException\tThe region of allocation epoch 4 has been freed.", "error", "RegionFreedException", "The region of allocation epoch 4 has been freed.")]
    [InlineData("error no type given", "error", "", "no type given")]
    [InlineData("Unhandled exception. System.IO.IOException: disk full", "", "", "Unhandled exception. System.IO.IOException: disk full")]
    public void An_answer_is_split_into_its_word_the_error_type_and_the_message(string answer, string word, string kind, string message) =>
        Assert.Equal((word, kind, message), PagerProcess.Parse(answer));
}
