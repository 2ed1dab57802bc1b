using System.Buffers.Binary;
using System.Text;

namespace LlmTrace.Ml;

/// <summary>
/// Writes a SentencePiece <c>ModelProto</c> (google/sentencepiece, src/sentencepiece_model.proto) in protobuf wire
/// format: the pieces with their scores and types, a Unigram trainer spec with the unknown id, and a normaliser spec with
/// a precompiled character map. Only what a tokenizer reads is written.
/// </summary>
internal static class SentencePieceModelWriter
{
    private const int Varint = 0;
    private const int Fixed32 = 5;
    private const int LengthDelimited = 2;

    public static byte[] Write(IReadOnlyList<(string Piece, float Score, int Type)> pieces, int unkId, int bosId, int eosId, int padId, bool byteFallback, byte[]? charsMap, bool addDummyPrefix)
    {
        using var model = new MemoryStream();
        Span<byte> single = stackalloc byte[4];
        foreach (var (piece, score, type) in pieces)
        {
            using var message = new MemoryStream();
            WriteBytes(message, 1, Encoding.UTF8.GetBytes(piece));
            WriteTag(message, 2, Fixed32);
            BinaryPrimitives.WriteSingleLittleEndian(single, score);
            message.Write(single);
            WriteVarint(message, 3, (ulong)type);
            WriteBytes(model, 1, message.ToArray());
        }

        using (var trainer = new MemoryStream())
        {
            WriteVarint(trainer, 3, 1); // model_type: UNIGRAM
            WriteVarint(trainer, 4, (ulong)pieces.Count); // vocab_size
            WriteVarint(trainer, 35, byteFallback ? 1UL : 0UL); // byte_fallback
            WriteVarint(trainer, 40, (ulong)unkId); // unk_id
            WriteVarint(trainer, 41, unchecked((ulong)(long)bosId)); // bos_id
            WriteVarint(trainer, 42, unchecked((ulong)(long)eosId)); // eos_id
            WriteVarint(trainer, 43, unchecked((ulong)(long)padId)); // pad_id
            WriteBytes(trainer, 45, Encoding.UTF8.GetBytes(pieces[unkId].Piece)); // unk_piece
            WriteBytes(trainer, 46, Encoding.UTF8.GetBytes(pieces[bosId].Piece)); // bos_piece
            WriteBytes(trainer, 47, Encoding.UTF8.GetBytes(pieces[eosId].Piece)); // eos_piece
            if (padId >= 0)
            {
                WriteBytes(trainer, 48, Encoding.UTF8.GetBytes(pieces[padId].Piece)); // pad_piece
            }
            WriteBytes(model, 2, trainer.ToArray());
        }

        using (var normalizer = new MemoryStream())
        {
            WriteBytes(normalizer, 1, Encoding.UTF8.GetBytes(charsMap is null ? "identity" : "precompiled"));
            if (charsMap is not null)
            {
                WriteBytes(normalizer, 2, charsMap);
            }

            WriteVarint(normalizer, 3, addDummyPrefix ? 1UL : 0UL);
            WriteVarint(normalizer, 4, 1); // remove_extra_whitespaces
            WriteVarint(normalizer, 5, 1); // escape_whitespaces
            WriteBytes(model, 3, normalizer.ToArray());
        }

        return model.ToArray();
    }

    private static void WriteTag(Stream stream, int field, int wireType) => WriteRaw(stream, ((ulong)field << 3) | (uint)wireType);

    private static void WriteVarint(Stream stream, int field, ulong value)
    {
        WriteTag(stream, field, Varint);
        WriteRaw(stream, value);
    }

    private static void WriteBytes(Stream stream, int field, byte[] value)
    {
        WriteTag(stream, field, LengthDelimited);
        WriteRaw(stream, (ulong)value.Length);
        stream.Write(value);
    }

    private static void WriteRaw(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}
