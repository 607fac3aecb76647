"""Fill the English catalog: the source strings are English, so msgstr = msgid where empty.

Keeps the English catalog complete (the catalog test fails on any empty entry) without hand work;
an English wording can still be changed in the .po file, and it is kept on the next run.
"""
import sys

from babel.messages.pofile import read_po, write_po


def main(path: str) -> None:
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string):
                message.string = tuple(message.id[min(i, 1)] for i in range(len(message.string) or 2))
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with open(path, "wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, omit_header=False)


if __name__ == "__main__":
    main(sys.argv[1])
