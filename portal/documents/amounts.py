"""Amounts in words: Chinese capitals (大写金额) for CNY, English words for other currencies."""
from decimal import ROUND_HALF_UP, Decimal

import cn2an
from num2words import num2words

FEN = Decimal("0.01")
CURRENCY_WORDS = {"USD": "US DOLLARS", "EUR": "EUROS", "CNY": "CHINESE YUAN", "GBP": "POUNDS STERLING",
                  "HKD": "HONG KONG DOLLARS", "JPY": "JAPANESE YEN"}
CENT_WORDS = {"USD": "CENTS", "EUR": "CENTS", "CNY": "FEN", "GBP": "PENCE", "HKD": "CENTS", "JPY": "SEN"}


def to_fen(amount) -> Decimal:
    """Round to the fen (0.01) with ROUND_HALF_UP: cn2an itself truncates, so this always comes first."""
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)


def chinese_capitals(amount) -> str:
    """人民币壹万贰仟叁佰肆拾伍元陆角整: 整 after 元 or 角, never after 分; 负 for a negative amount."""
    value = to_fen(amount)
    sign = "负" if value < 0 else ""
    words = cn2an.an2cn(f"{abs(value):f}", "rmb")
    if words.endswith("角"):
        words += "整"
    return f"人民币{sign}{words}"


def english_words(amount, currency: str) -> str:
    """SAY US DOLLARS ONE THOUSAND TWO HUNDRED AND THIRTY-FOUR AND CENTS FIFTY-SIX ONLY."""
    value = to_fen(amount)
    sign = "MINUS " if value < 0 else ""
    value = abs(value)
    units, cents = int(value), int((value - int(value)) * 100)
    name = CURRENCY_WORDS.get(currency, currency)
    words = f"SAY {name} {sign}{num2words(units, lang='en').upper()}"
    if cents:
        words += f" AND {CENT_WORDS.get(currency, 'CENTS')} {num2words(cents, lang='en').upper()}"
    return words.replace(",", "") + " ONLY"


def in_words(amount, currency: str) -> str:
    """The amount written out as the currency's documents expect it."""
    return chinese_capitals(amount) if currency == "CNY" else english_words(amount, currency)
