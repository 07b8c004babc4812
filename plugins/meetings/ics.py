"""A small iCalendar (RFC 5545 / RFC 5546) writer for meeting invitations (R33).

Lines end in CRLF and are folded at 75 octets without splitting a UTF-8 character; DTSTAMP and
times are UTC; UID is stable per meeting and SEQUENCE comes from the meeting (bumped on every
change); a cancelled meeting is sent with METHOD:CANCEL and STATUS:CANCELLED."""
import uuid
from datetime import timezone

PRODID = "-//linli//meetings//ZH"
_NS = uuid.UUID("6b1f6c4e-2f7a-4a53-9a0e-1c2f3e4d5a6b")


def fold(line: str) -> str:
    """Fold one content line: at most 75 octets per physical line, continuation lines start with
    a space (which counts), and a multi-byte character is never split."""
    out, current, size = [], [], 0
    limit = 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append("".join(current))
            current, size, limit = [" "], 1, 75
        current.append(ch)
        size += n
    out.append("".join(current))
    return "\r\n".join(out)


def text(value) -> str:
    """Escape a TEXT value (backslash, semicolon, comma, newline)."""
    s = str(value or "")
    s = s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return s.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def param(value) -> str:
    """A parameter value, quoted when it holds a separator (DQUOTE itself is not allowed)."""
    s = str(value or "").replace('"', "'").replace("\r", " ").replace("\n", " ")
    return f'"{s}"' if any(c in s for c in ":;,") else s


def utc(dt) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def cal_address(kind, key) -> str:
    """A stable URI for a person or organiser who has no e-mail address with us."""
    return "urn:uuid:" + str(uuid.uuid5(_NS, f"{kind}:{key}"))


def event_lines(*, uid, sequence, stamp, start, end, summary, status="CONFIRMED", location="",
                description="", url=None, organizer=None, attendees=(), created=None, modified=None):
    """The content lines of one VEVENT. ``organizer`` and each attendee are (name, uri)."""
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{utc(stamp)}", f"SEQUENCE:{int(sequence)}",
             f"DTSTART:{utc(start)}", f"DTEND:{utc(end)}", f"SUMMARY:{text(summary)}", f"STATUS:{status}"]
    if created:
        lines.append(f"CREATED:{utc(created)}")
    if modified:
        lines.append(f"LAST-MODIFIED:{utc(modified)}")
    if location:
        lines.append(f"LOCATION:{text(location)}")
    if description:
        lines.append(f"DESCRIPTION:{text(description)}")
    if url:
        lines.append(f"URL:{url}")
    if organizer:
        lines.append(f"ORGANIZER;CN={param(organizer[0])}:{organizer[1]}")
    for name, uri in attendees:
        lines.append(f"ATTENDEE;CN={param(name)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
                     f"PARTSTAT=NEEDS-ACTION;RSVP=TRUE:{uri}")
    lines.append("END:VEVENT")
    return lines


def calendar(events, method=None, name=None) -> str:
    """A VCALENDAR with the given VEVENT line lists, CRLF-terminated and folded."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    if name:
        lines.append(f"X-WR-CALNAME:{text(name)}")
    for ev in events:
        lines.extend(ev)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
