"""The report's languages: gettext catalogues read with Babel, and locale formatting.

Every word the report shows is a msgid in `locale/messages.pot`; the English text is
the msgid itself, other languages live in `locale/<ll_CC>/LC_MESSAGES/messages.po`.
The .po files are read at run time (no compiled .mo in the tree to go stale).

Regenerate after changing a string (then translate what `pybabel update` marks):

    pybabel extract -F ipv6scan/report/locale/babel.cfg -o ipv6scan/report/locale/messages.pot .
    pybabel update -i ipv6scan/report/locale/messages.pot -d ipv6scan/report/locale -D messages

The check details' templates are declared in the checks (messages.py); their
translations are in `details*.po` beside messages.po, kept in step by
tests/unit/test_detail_messages.py (every declared template translated, with the same
placeholders, and nothing obsolete).
"""

from __future__ import annotations

import datetime as dt
import gettext
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Babel loads where a report is written, not with the command line (its --help, validate)
# that imports this module for LOCALES and `localized`.
if TYPE_CHECKING:
    from babel import Locale
    from babel.support import Translations

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"

# Report language (the CLI's --lang value) -> Babel locale; English needs no catalogue.
LOCALES: dict[str, str] = {"en": "en", "zh-CN": "zh_CN"}


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The report's words (messages.po) and the check details' (details*.po, one file per
    family, msgids from messages.py), merged into one catalogue."""
    code = LOCALES.get(lang, "en")
    folder = LOCALE_DIR / code / "LC_MESSAGES"
    po = folder / f"{DOMAIN}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    merged = _load(po, code)
    for details in sorted(folder.glob("details*.po")):
        merged.merge(_load(details, code))
    return merged


def _load(po: Path, code: str) -> Translations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=code, domain=DOMAIN)
    mo = BytesIO()
    # Fuzzy entries are guesses by `pybabel update`: better English than a wrong word.
    write_mo(mo, catalog, use_fuzzy=False)
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)


@dataclass(frozen=True)
class Formatter:
    """Numbers and dates the way the reader's locale writes them."""

    lang: str

    @property
    def locale(self) -> Locale:
        from babel import Locale

        return Locale.parse(LOCALES.get(self.lang, "en"))

    def score(self, value: object) -> str:
        """A 0-100 score with one decimal; empty when there is none."""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return ""
        from babel.numbers import format_decimal

        return format_decimal(value, "#,##0.0", locale=self.locale)

    def number(self, value: object, digits: int = 0) -> str:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return str(value) if value is not None else ""
        pattern = "#,##0" + ("." + "#" * digits if digits else "")
        from babel.numbers import format_decimal

        return format_decimal(value, pattern, locale=self.locale)

    def percent(self, share: float | None) -> str:
        if share is None:
            return ""
        from babel.numbers import format_percent

        return format_percent(share, "#,##0%", locale=self.locale)

    def date(self, value: object) -> str:
        """An ISO date or date-time as a locale date; anything else unchanged."""
        parsed = parse_date(value)
        if parsed is None:
            return "" if value is None else str(value)
        from babel.dates import format_date

        return format_date(parsed, "medium", locale=self.locale)

    def short_date(self, value: object) -> str:
        parsed = parse_date(value)
        if parsed is None:
            return "" if value is None else str(value)
        from babel.dates import format_skeleton

        return format_skeleton("yMd", parsed, locale=self.locale)  # 1/15/2025, 2025/1/15

    def timestamp(self, moment: dt.datetime) -> str:
        """Date and minute, in UTC: a report is compared across time zones."""
        from babel.dates import format_date, format_time

        utc = moment.astimezone(dt.UTC)
        day = format_date(utc.date(), "medium", locale=self.locale)
        return f"{day} {format_time(utc.time(), 'short', locale=self.locale)} UTC"


def parse_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def localized(value: Any, lang: str) -> str:
    """A producer's display text: a plain string, or a mapping of language -> text."""
    if isinstance(value, dict):
        for key in (lang, lang.split("-")[0], "en"):
            text = value.get(key)
            if isinstance(text, str):
                return text
        texts = [v for v in value.values() if isinstance(v, str)]
        return texts[0] if texts else ""
    return "" if value is None else str(value)
