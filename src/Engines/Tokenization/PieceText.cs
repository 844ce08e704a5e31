namespace PdRdma.Engines.Tokenization;

/// <summary>Decoding rules shared by the tokenizers, as in llama2.c's decode and safe_printf.</summary>
internal static class PieceText
{
    /// <summary>Parses a byte-fallback piece "&lt;0xHH&gt;".</summary>
    public static bool TryParseByte(ReadOnlySpan<byte> piece, out byte value)
    {
        value = 0;
        if (piece.Length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>') return false;
        return byte.TryParse(System.Text.Encoding.ASCII.GetString(piece.Slice(3, 2)), System.Globalization.NumberStyles.HexNumber, null, out value);
    }

    /// <summary>safe_printf: a single byte that is neither printable ASCII nor whitespace prints nothing.</summary>
    public static byte[] Safe(byte[] piece)
    {
        if (piece.Length == 0) return piece;
        if (piece.Length == 1)
        {
            byte c = piece[0];
            bool printable = c >= 0x20 && c <= 0x7E;
            bool space = c is (byte)' ' or (>= 0x09 and <= 0x0D);
            if (!printable && !space) return [];
        }
        // printf("%s") stops at a NUL byte.
        int nul = Array.IndexOf(piece, (byte)0);
        return nul >= 0 ? piece[..nul] : piece;
    }
}
