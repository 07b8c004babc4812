"""Spreadsheets in and out: uploaded sheets read within fixed limits, exports whose text stays text.

Reading. A .xlsx is a zip of XML files, and a tiny one can unpack to gigabytes or declare a million
rows of nothing (a 0.26 MB file with 30 million empty rows held a worker for minutes and 3 GB).
So before openpyxl sees a file, its zip directory is checked: the number of parts, their unpacked
size together (``LINLI_IMPORT_MAX_UNPACKED``) and how tightly each is packed. Python's zipfile never
unpacks more than the directory declares (a part that lies fails its checksum), so these numbers
bound the work. The sheet is then streamed (openpyxl's read-only mode) and reading stops at the
first row past ``LINLI_IMPORT_MAX_ROWS`` filled rows or with a value past
``LINLI_IMPORT_MAX_COLUMNS`` columns; columns further right and rows below Excel's last are never
materialised. A CSV file is held to the same limits. Each limit refused is named in a translated
``ServiceError`` and nothing is kept.

Writing. Every export goes through ``Workbook`` (xlsx) or ``csv_bytes``: user text is written as
text. Spreadsheet programs run a cell that starts with = + - @ (and, in CSV, tab or carriage return:
OWASP's CSV-injection list), so such a cell is an explicit string with Excel's quote prefix in xlsx
(the value itself unchanged) and gets a leading apostrophe in CSV. Characters XML cannot hold
(C0 controls but tab and newlines, C1 controls, U+FFFE/U+FFFF, lone surrogates) are dropped, so
whatever is stored, an export never fails. Numbers stay numbers."""
import csv
import io
import re
import warnings
import zipfile
from datetime import date, datetime, time
from decimal import Decimal

from flask import current_app, has_app_context
from flask_babel import gettext as _

from core.config import Defaults
from core.errors import ServiceError

MAX_PARTS = 1000  # files inside one .xlsx; Excel writes a dozen, plus one per sheet, picture or comment
MAX_RATIO = 100  # how many times a part may be packed; real sheets are 5 to 20, bombs thousands
RATIO_FROM = 1024 * 1024  # small parts may be packed tighter (an empty style sheet), harmless
EXCEL_ROWS = 1048576  # Excel's last row: nothing a real program saved lies below it

# XML 1.0 cannot hold C0 controls other than tab, LF and CR, nor U+FFFE/U+FFFF or lone surrogates
# (openpyxl refuses them, which made an export a 500); C1 controls are legal but never meant, and
# some programs reject them.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What a spreadsheet program may evaluate at the start of a cell, full-width forms included.
_FORMULA_START = tuple("=+-@\t\r＝＋－＠")
_SHEET_TITLE = re.compile(r"[\\/*?:\[\]]")


def limit(key):
    """The configured import limit ``key`` (core.config.Defaults outside an app)."""
    default = getattr(Defaults, key)
    return current_app.config.get(key, default) if has_app_context() else default


# ── reading ────────────────────────────────────────────────────────────────────────────────────

def _refuse(code, message, field):
    return ServiceError(code, message, fields={"file": field})


def _unreadable(message):
    return _refuse("unreadable_file", message, _("Unreadable file."))


def too_many_rows(n):
    return _refuse("too_many_rows", _("At most %(n)d rows per file. Split the file and import the parts one by one.",
                                      n=n), _("At most %(n)d rows per file.", n=n))


def _too_large(max_bytes):
    mb = max(1, max_bytes // (1024 * 1024))
    return _refuse("file_too_large",
                   _("This file holds more than %(mb)d MB of data, the most one import reads. Split it and import "
                     "the parts one by one.", mb=mb),
                   _("More than %(mb)d MB of data.", mb=mb))


def _too_many_columns(n):
    return _refuse("too_many_columns",
                   _("At most %(n)d columns per sheet. Delete the columns the import does not use and retry.", n=n),
                   _("At most %(n)d columns.", n=n))


def _check_zip(data, max_bytes):
    """Refuse a .xlsx whose zip directory promises more than a sheet of the allowed size holds."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _unreadable(_("This .xlsx file cannot be read. Save it again from Excel and retry."))
    if len(parts) > MAX_PARTS:
        raise _refuse("not_a_sheet",
                      _("This .xlsx file has more than %(n)d parts, which a sheet saved by Excel or WPS never has. "
                        "Copy the table into a new file and retry.", n=MAX_PARTS),
                      _("More than %(n)d parts.", n=MAX_PARTS))
    if sum(p.file_size for p in parts) > max_bytes:
        raise _too_large(max_bytes)
    for p in parts:
        if p.file_size > RATIO_FROM and p.file_size > MAX_RATIO * max(p.compress_size, 1):
            raise _refuse("not_a_sheet",
                          _("This .xlsx file is packed more than %(n)d times tighter than its contents, which a sheet "
                            "saved by Excel or WPS never is. Copy the table into a new file and retry.", n=MAX_RATIO),
                          _("Packed more than %(n)d times.", n=MAX_RATIO))


def _text(value):
    """One cell as text. Numbers are read as Excel shows them, to its 15 significant digits: 89.5
    stays 89.5, and float noise such as 89.50000000000001 (a formula's result) is read as 89.5,
    never rounded to two places behind the user's back; whole numbers lose the '.0' (room 101,
    phone 13800138000)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def _unquote(text):
    """A CSV cell as ``csv_bytes`` wrote it: the apostrophe before a formula character goes again."""
    return text[1:] if text[:1] == "'" and text[1:2] in _FORMULA_START else text


class _Table:
    """Rows as lists of strings, collected within the row and column limits. Empty rows are kept
    as one shared empty tuple (so line numbers stay right), and only up to the last filled row."""

    def __init__(self, max_rows, max_columns):
        self.rows, self.filled, self.blank = [], 0, 0
        self.max_rows, self.max_columns = max_rows, max_columns

    def add(self, raw, clean=_text):
        """``raw`` holds at most ``max_columns + 1`` cells: a value in the last is one too many."""
        if raw.count(None) == len(raw):  # the common empty row, without a look at each cell
            self.blank += 1
            return
        row = [clean(v) for v in raw]
        while row and not row[-1]:
            row.pop()
        if not row:
            self.blank += 1
            return
        if len(row) > self.max_columns:
            raise _too_many_columns(self.max_columns)
        self.filled += 1
        if self.filled > self.max_rows + 1:  # the heading row and max_rows data rows
            raise too_many_rows(self.max_rows)
        self.rows.extend([()] * self.blank)  # bounded: a filled row follows, and positions are too
        self.blank = 0
        self.rows.append(row)


def _read_xlsx(data, table):
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. unsupported extensions in files saved by WPS
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
            try:
                ws = wb.worksheets[0]
                ws.reset_dimensions()  # the declared size may be wrong, or a lie
                # Bounded both ways: cells right of the extra column and rows below Excel's last
                # are never built, whatever the sheet declares.
                for raw in ws.iter_rows(max_col=table.max_columns + 1, max_row=EXCEL_ROWS, values_only=True):
                    table.add(raw)
            finally:
                wb.close()
    except ServiceError:
        raise
    except Exception:
        raise _unreadable(_("This .xlsx file cannot be read. Save it again from Excel and retry."))


def _read_csv(data, table):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _unreadable(_("The CSV file is neither UTF-8 nor GBK."))
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if first else ","
    width = table.max_columns + 1

    def clean(value):
        return "" if value is None else _unquote(value.strip())

    try:
        for position, raw in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if position > EXCEL_ROWS:
                raise too_many_rows(table.max_rows)
            if len(raw) > width and any(v.strip() for v in raw[width:]):
                raise _too_many_columns(table.max_columns)
            table.add([v or None for v in raw[:width]], clean)
    except csv.Error:
        raise _unreadable(_("This CSV file cannot be read. Save it again from Excel as CSV and retry."))


def read_table(filename, data, *, max_rows=None, max_columns=None, max_bytes=None):
    """Rows of the first sheet of a .xlsx, or of a .csv (UTF-8 or GBK, as Excel saves it), as lists
    of stripped strings, within the configured limits (a heading row plus ``max_rows`` filled rows,
    ``max_columns`` columns, ``max_bytes`` of data). Raises ``ServiceError`` naming the limit."""
    max_rows = limit("LINLI_IMPORT_MAX_ROWS") if max_rows is None else max_rows
    max_columns = limit("LINLI_IMPORT_MAX_COLUMNS") if max_columns is None else max_columns
    max_bytes = limit("LINLI_IMPORT_MAX_UNPACKED") if max_bytes is None else max_bytes
    name = (filename or "").strip().lower()
    table = _Table(max_rows, max_columns)
    if name.endswith(".xlsx"):
        if len(data) > max_bytes:
            raise _too_large(max_bytes)
        _check_zip(data, max_bytes)
        _read_xlsx(data, table)
        return table.rows
    if name.endswith(".csv"):
        if len(data) > max_bytes:
            raise _too_large(max_bytes)
        _read_csv(data, table)
        return table.rows
    if name.endswith(".xls") or name.endswith(".et"):
        raise ServiceError("bad_file_type", _("Old Excel files (.xls) cannot be read. Save the file as .xlsx and retry."),
                           fields={"file": _("Upload an .xlsx or .csv file.")})
    raise ServiceError("bad_file_type", _("Upload an .xlsx or .csv file."), fields={"file": _("Upload an .xlsx or .csv file.")})


def read_bounded(path) -> bytes:
    """A file's bytes, but never more than one past the size limit (which ``read_table`` refuses):
    the command line reads a 2 GB file no more than the web takes a 2 GB upload."""
    with open(path, "rb") as f:
        return f.read(limit("LINLI_IMPORT_MAX_UNPACKED") + 1)


# ── writing ────────────────────────────────────────────────────────────────────────────────────

def clean_text(value) -> str:
    """``value`` as text an XML file (and so a .xlsx) can hold: illegal characters dropped."""
    return _ILLEGAL.sub("", str(value))


def looks_like_formula(text: str) -> bool:
    return text.startswith(_FORMULA_START)


def _is_number(value):
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


class Sheet:
    """One sheet of a ``Workbook``; ``append`` takes a row of plain values."""

    def __init__(self, ws):
        self._ws = ws

    def _cell(self, value):
        from openpyxl.cell import WriteOnlyCell

        if value is None or isinstance(value, bool) or _is_number(value):
            cell = WriteOnlyCell(self._ws, value=value)
            if isinstance(value, Decimal) and value.is_finite():
                places = max(0, -value.as_tuple().exponent)  # 89.50 shows as 89.50
                cell.number_format = "0." + "0" * places if places else "0"
            return cell
        if isinstance(value, (datetime, date, time)) and getattr(value, "tzinfo", None) is None:
            return WriteOnlyCell(self._ws, value=value)
        text = clean_text(value)
        cell = WriteOnlyCell(self._ws, value=None)
        cell.value = text
        cell.data_type = "s"  # never a formula, whatever it starts with
        if looks_like_formula(text):
            cell.quotePrefix = True  # and stays text when someone edits it in Excel
        return cell

    def append(self, values):
        self._ws.append([self._cell(v) for v in values])


class Workbook:
    """A write-only workbook for exports: ``create_sheet(title)``, ``Sheet.append(row)``, ``save()``."""

    def __init__(self):
        import openpyxl  # imported when something is exported, not at start-up

        self._wb = openpyxl.Workbook(write_only=True)

    def create_sheet(self, title) -> Sheet:
        title = _SHEET_TITLE.sub(" ", clean_text(title))[:31].strip() or "Sheet"
        return Sheet(self._wb.create_sheet(title))

    def save(self, fileobj=None):
        """Write to ``fileobj``, or return the .xlsx as bytes (once: the rows are not kept)."""
        out = io.BytesIO() if fileobj is None else fileobj
        self._wb.save(out)
        return out.getvalue() if fileobj is None else None


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if _is_number(value):
        return str(value)
    text = clean_text(value)
    return "'" + text if looks_like_formula(text) else text


def csv_bytes(rows) -> bytes:
    """Rows as a CSV file Excel opens correctly (UTF-8 with a byte-order mark, CRLF), text as text."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue().encode("utf-8-sig")
