package dev.transact4j.llama.tokenizer;

import java.util.List;

/** Inputs on which tokenizers tend to disagree. */
final class HardCases {
    private HardCases() {
    }

    static final List<String> TEXTS = List.of(
            "",
            " ",
            "   ",
            "Hello world",
            " Hello",
            "Hello ",
            "Hello  world   again",
            "  leading spaces",
            "trailing spaces  ",
            "a\tb\t\tc\t",
            "line one\nline two\n\nline four",
            "\n",
            "\n\n\n",
            " \n ",
            "windows\r\nline\r\nends",
            "12345 678901234",
            "3.14159 and 2,718",
            "2026-12-04 at 20:15",
            "café naïve résumé",
            "cafe\u0301 with a combining accent",
            "A\u030A and \u00C5 and \u212B",
            "Ünïcödé Ωμέγα",
            "日本語のテキストです。",
            "中文测试，标点符号！",
            "한국어 텍스트",
            "emoji 😀 and 👩‍👩‍👧 and 🇺🇸",
            "🤖🤖🤖",
            "I'm sure you'll see they've done it, didn't they?",
            "WE'LL SHOUT, SHE'S LOUD",
            "it'ſ long s and 'K kelvin",
            "non\u00A0breaking and em\u2003space and ideographic\u3000space",
            "zero\u200Bwidth",
            "\u2581already marked",
            "x\u00B2 + y\u00B3 = \u2460\u2461",
            "\uFB01ne ligature \u210Cello",
            "Arabic digits \u0661\u0662\u0663 and Devanagari \u0967\u0968",
            "\u0130stanbul \u01C5 \u03A3\u0391\u03A3",
            "control \u0001 char and \u007F delete",
            "replacement \uFFFD char",
            "math \uD835\uDD25\uD835\uDD22\uD835\uDD29",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "<s>",
            "Hello <s> world",
            "a</s>b",
            "<unk> token text",
            "</s></s>",
            "<|im_start|>user\nhi<|im_end|>\n",
            "text <|endoftext|> more",
            "<|endoftext|>",
            "<s >not special");
}
