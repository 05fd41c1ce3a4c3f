"""The serial number and the validity dates, with certtool's meaning of each option.

``serial`` is decimal or ``0x`` + two's-complement octets; the end of the
validity is ``expiration_date``, else ``expiration_days`` counted from the
moment certtool runs, clamped to X.509's last second; the start is
``activation_date``, else now.  Dates are read in the forms certtool's GNU
date parser takes most often.
"""

from __future__ import annotations

import datetime
import re

from mkcert.errors import shorten
from mkcert.readers.certtool.options import Template, numeric_option

__all__ = ["NO_WELL_DEFINED_EXPIRATION", "serial_of", "validity_of"]

# certtool stores serials as at most 20 octets (RFC 5280 4.1.2.2) and reads
# decimal serials into a signed 64-bit integer.
MAX_DECIMAL_SERIAL = 2**63 - 2
MAX_SERIAL_OCTETS = 20


# What certtool writes for expiration_days = -1: the X.509 "no end date".
NO_WELL_DEFINED_EXPIRATION = datetime.datetime(
    9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)


def serial_of(template: Template) -> int | None:
    """certtool's serial: decimal, or ``0x`` + hex octets read as two's complement.

    ``001`` is decimal 1.  ``0x80`` is -128 to certtool (the octets are
    written as they are into the INTEGER); we refuse that rather than make
    a negative serial.  Without a serial, certtool picks 159 random bits,
    as the builder does.
    """
    option = template.first("serial")
    if option is None:
        return None
    text = option.value
    if text.startswith("0x"):
        digits = text[2:]
        if not digits or len(digits) % 2 or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
            template.fail(option, f"serial '{shorten(text)}' is not an even number of hex digits")
        octets = bytes.fromhex(digits)
        if len(octets) > MAX_SERIAL_OCTETS or (
                len(octets) == MAX_SERIAL_OCTETS and octets[0] & 0x80):
            template.fail(option, f"serial '{shorten(text)}' would take more than 20 octets")
        value = int.from_bytes(octets, "big", signed=True)
        if value <= 0:
            template.fail(option, f"serial '{shorten(text)}' is not positive as certtool reads it "
                                  "(the first octet's top bit is a sign; prefix 00)")
        return value
    match = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", text)
    if not match:
        template.fail(option, f"serial '{shorten(text)}' is not a decimal number or 0x followed "
                              "by hex digits")
    value = int(match.group(1))
    if not 1 <= value <= MAX_DECIMAL_SERIAL:
        template.fail(option, f"serial {value} is out of range (1 to {MAX_DECIMAL_SERIAL})")
    return value


def validity_of(template: Template, now: datetime.datetime | None
                ) -> tuple[datetime.datetime | None, datetime.datetime | None, int]:
    """(not_before, not_after, days) with certtool's meaning of each option.

    certtool computes the end as now + expiration_days (from the moment it
    runs, even with an activation_date), and writes any end past the year
    9999 as 99991231235959Z.  expiration_days -1 means that "no end" date;
    0, a missing value and anything below -2 mean 365.  -2 makes certtool
    compute now - 2 days, a certificate expired before it was made, which
    our certificate library refuses, and so do we, with a clear message.
    """
    not_before = _date(template, "activation_date")
    not_after = _date(template, "expiration_date")
    days, option = numeric_option(template, "expiration_days")
    if days is None or days == 0 or days < -2:
        days = 365
    if not_after is None:
        not_after = _end_from_days(template, option, days, not_before, now)
    if not_before is not None and not_after is not None and not_after < not_before:
        option = template.first("expiration_date") or template.first("activation_date")
        template.fail(option, f"the certificate would end ({not_after:%Y-%m-%d %H:%M:%S} "
                              f"UTC) before it starts ({not_before:%Y-%m-%d %H:%M:%S} UTC)")
    _refuse_past_end(template, not_after, now)
    return not_before, not_after, days


def _refuse_past_end(template, not_after, now):
    """An expiration_date that has passed: the certificate would be dead on arrival.

    certtool makes it (exit 0), and a renewal timer would then "renew" it
    every day, never failing where anyone looks; expiration_days = -2 is
    the same mistake and is refused too.
    """
    option = template.first("expiration_date")
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    if option is not None and not_after <= moment:
        template.fail(option, f"expiration_date {not_after:%Y-%m-%d %H:%M:%S} UTC has "
                              "passed: the certificate would have expired before it was "
                              "made (certtool makes it anyway)")


def _end_from_days(template, option, days, not_before, now):
    """An absolute end for ``days`` where the builder's now + days would differ."""
    if days == -2:
        template.fail(option, "expiration_days = -2 makes certtool write a certificate "
                              "that expired two days before it was made")
    if days == -1:
        return NO_WELL_DEFINED_EXPIRATION
    moment = (now or datetime.datetime.now(datetime.timezone.utc)).replace(microsecond=0)
    if days * 86400 > (NO_WELL_DEFINED_EXPIRATION - moment).total_seconds():
        return NO_WELL_DEFINED_EXPIRATION  # certtool's clamp, not an overflow
    if not_before is not None:
        return moment + datetime.timedelta(days=days)  # from now, not from not_before
    return None  # the builder's now + days is certtool's


# Compiled on first use (re caches it): most templates have no date, and
# compiling it at import took half as long as reading Debian's whole template.
_DATE = (r"(\d{4})-(\d{1,2})-(\d{1,2})"
         r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
         r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?")


def _date(template, name):
    """An absolute date in the forms certtool's date parser takes most often.

    certtool accepts any GNU date string ("next month", "Jan 2 2030");
    relative ones cannot be reproduced at another moment and the rest are
    rarely used, so only ISO dates and ``@seconds`` are read here.  Without
    a zone the time is local, as for certtool.
    """
    option = template.first(name)
    if option is None:
        return None
    text = option.value.strip()
    if re.fullmatch(r"@[0-9]+", text):
        try:
            moment = datetime.datetime.fromtimestamp(int(text[1:]), datetime.timezone.utc)
        except (OverflowError, ValueError, OSError):
            template.fail(option, f"{name} '{shorten(option.value)}' is beyond the year 9999")
        return _check_epoch(template, option, name, moment)
    match = re.fullmatch(_DATE, text, re.IGNORECASE)
    if not match:
        template.fail(option, f"cannot read the date '{shorten(option.value)}' (mkcert takes "
                              "YYYY-MM-DD [HH:MM[:SS]] [UTC|+HHMM] or @seconds)")
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour or 0),
                                   int(minute or 0), int(second or 0))
    except ValueError as exc:
        template.fail(option, f"invalid date '{shorten(option.value)}': {exc}")
    if zone is None:
        moment = moment.astimezone()  # local time, like certtool
    elif zone.upper() in ("Z", "UTC", "GMT"):
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = moment.replace(tzinfo=datetime.timezone(sign * offset))
    return _check_epoch(template, option, name, moment.astimezone(datetime.timezone.utc))


def _check_epoch(template, option, name, moment):
    if moment.year < 1950:
        # certtool writes it as UTCTime with two digits, i.e. 100 years later.
        template.fail(option, f"{name} '{shorten(option.value)}' is before 1950, which "
                              "certtool writes as a date 100 years later")
    return moment
