"""Fill empty entries of the Chinese catalog from JSON files of {English msgid: Chinese}.

Used when an area adds strings: write its translations into a JSON file, run `make i18n`, then
`python scripts/fill_chinese.py area.json ...`; prints the msgids still untranslated.
"""
import json
import sys

from babel.messages.pofile import read_po, write_po

PATH = "portal/translations/zh/LC_MESSAGES/messages.po"


def main(files: list[str]) -> None:
    translations: dict[str, str] = {}
    for name in files:
        with open(name, encoding="utf-8") as handle:
            translations.update(json.load(handle))
    with open(PATH, "rb") as handle:
        catalog = read_po(handle, locale="zh")
    missing = []
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        if not message.string and message.id in translations:
            message.string = translations[message.id]
        if not message.string:
            missing.append(message.id)
        message.flags.discard("fuzzy")
    with open(PATH, "wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, omit_header=False)
    for msgid in missing:
        print(json.dumps(msgid, ensure_ascii=False))
    print(f"{len(missing)} untranslated", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
