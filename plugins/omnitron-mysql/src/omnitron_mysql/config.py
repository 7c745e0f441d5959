"""``config`` of ``{"preset": "mysql"}`` (and ``"mariadb"``): the one model both read.

Everything here is checked when the project is loaded, so a typo in a
character set, a collation, an SQL mode or a server option is a config
error naming its field, not a server that refuses to start.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from omnitron.api import Port, PresetConfig

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_DATABASE_NAME = 64

CHARSETS = frozenset({
    "armscii8", "ascii", "big5", "binary", "cp1250", "cp1251", "cp1256", "cp1257", "cp850", "cp852", "cp866",
    "cp932", "dec8", "eucjpms", "euckr", "gb18030", "gb2312", "gbk", "geostd8", "greek", "hebrew", "hp8",
    "keybcs2", "koi8r", "koi8u", "latin1", "latin2", "latin5", "latin7", "macce", "macroman", "sjis", "swe7",
    "tis620", "ucs2", "ujis", "utf16", "utf16le", "utf32", "utf8", "utf8mb3", "utf8mb4",
})
"""Character sets of MySQL 8 and MariaDB (``gb18030`` is MySQL's alone)."""

SQL_MODES = frozenset({
    "ALLOW_INVALID_DATES", "ANSI", "ANSI_QUOTES", "DB2", "EMPTY_STRING_IS_NULL", "ERROR_FOR_DIVISION_BY_ZERO",
    "HIGH_NOT_PRECEDENCE", "IGNORE_BAD_TABLE_OPTIONS", "IGNORE_SPACE", "MAXDB", "MSSQL", "MYSQL323", "MYSQL40",
    "NO_AUTO_CREATE_USER", "NO_AUTO_VALUE_ON_ZERO", "NO_BACKSLASH_ESCAPES", "NO_DIR_IN_CREATE",
    "NO_ENGINE_SUBSTITUTION", "NO_FIELD_OPTIONS", "NO_KEY_OPTIONS", "NO_TABLE_OPTIONS", "NO_UNSIGNED_SUBTRACTION",
    "NO_ZERO_DATE", "NO_ZERO_IN_DATE", "ONLY_FULL_GROUP_BY", "ORACLE", "PAD_CHAR_TO_FULL_LENGTH",
    "PIPES_AS_CONCAT", "POSTGRESQL", "REAL_AS_FLOAT", "SIMULTANEOUS_ASSIGNMENT", "STRICT_ALL_TABLES",
    "STRICT_TRANS_TABLES", "TIME_ROUND_FRACTIONAL", "TIME_TRUNCATE_FRACTIONAL", "TRADITIONAL",
})
"""SQL modes of MySQL 8 and MariaDB; a mode only one of them knows is refused by the other at start."""

RESERVED_SETTINGS = frozenset({
    "port", "bind-address", "datadir", "socket", "user", "pid-file", "skip-networking", "skip-name-resolve",
    "skip-grant-tables", "basedir", "character-set-server", "collation-server", "sql-mode", "defaults-file",
    "defaults-extra-file", "no-defaults", "init-file",
})
"""Server options omnitron sets itself (from ``port``, ``charset``, ``collation``, ``sqlMode`` or the provider)."""


def _check_charset(value: str) -> str:
    if value not in CHARSETS:
        raise ValueError(f"unknown character set {value!r}; known: {', '.join(sorted(CHARSETS))}")
    return value


def _check_setting(name: str) -> str:
    if name.replace("_", "-") in RESERVED_SETTINGS:
        raise ValueError(f"server option {name!r} is set by omnitron: use the preset's fields (port, charset, collation, sqlMode)")
    return name


Charset = Annotated[str, AfterValidator(_check_charset)]
Collation = Annotated[str, Field(pattern=r"^[a-z0-9]+(_[a-z0-9]+)+$|^binary$")]
SettingName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$"), AfterValidator(_check_setting)]


def _check_collation(value: str | None, charset: str | None) -> str | None:
    if value is None or charset is None:
        return value
    family = {"utf8": ("utf8_", "utf8mb3_")}.get(charset, (f"{charset}_",))
    if not (value.startswith(family) or (charset == "binary" and value == "binary")):
        raise ValueError(f"collation {value!r} does not belong to character set {charset!r} (it must start with {family[0]!r})")
    return value


class DatabaseOptions(PresetConfig):
    """One entry of ``databases``: created after the server is healthy."""

    charset: Charset | None = None
    """Character set of this database; the service's ``charset`` when absent."""
    collation: Collation | None = None
    """Collation of this database; the server's default for its character set when absent."""

    @field_validator("collation")
    @classmethod
    def _collation(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _check_collation(value, info.data.get("charset"))


class MysqlConfig(PresetConfig):
    """``config`` of ``{"preset": "mysql"}`` and ``{"preset": "mariadb"}``."""

    version: Annotated[str, Field(pattern=r"^[0-9][0-9.]*(-[a-z0-9]+)?$")] | None = None
    """The image tag (``mysql:<version>``); natively, the server version to prefer."""
    image: Annotated[str, Field(min_length=1)] | None = None
    """Full image name; ``mysql:<version>`` (``mariadb:<version>``) when absent."""
    port: Port = 3306
    charset: Charset = "utf8mb4"
    """The server's character set (``--character-set-server``), and of every database omnitron creates."""
    collation: Collation | None = None
    """The server's collation; absent: the server's default for ``charset``
    (MySQL 8.4: ``utf8mb4_0900_ai_ci``, MariaDB: ``utf8mb4_general_ci``)."""
    databases: dict[Annotated[str, Field(pattern=IDENTIFIER, max_length=MAX_DATABASE_NAME)], DatabaseOptions] = {}
    """Databases created after the server is healthy (``CREATE DATABASE IF NOT EXISTS``)."""
    sql_mode: list[str] | None = Field(default=None, alias="sqlMode")
    """SQL modes (``["STRICT_TRANS_TABLES", "NO_ZERO_DATE"]`` or ``"ANSI,NO_ZERO_DATE"``); ``""`` for none;
    absent: the server's default."""
    settings: dict[SettingName, str | int | float | bool] = {}
    """Other server options, passed as ``--name=value`` (``max_connections``, ``innodb_buffer_pool_size``)."""

    @field_validator("collation")
    @classmethod
    def _collation(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _check_collation(value, info.data.get("charset"))

    @field_validator("databases")
    @classmethod
    def _database_collations(cls, value: dict[str, DatabaseOptions], info: ValidationInfo) -> dict[str, DatabaseOptions]:
        for name, options in value.items():
            if options.collation and not options.charset:
                try:
                    _check_collation(options.collation, info.data.get("charset"))
                except ValueError as exc:
                    raise ValueError(f"database {name}: {exc}") from None
        return value

    @field_validator("sql_mode", mode="before")
    @classmethod
    def _sql_mode(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for mode in value:
                if isinstance(mode, str) and mode.upper() not in SQL_MODES:
                    raise ValueError(f"unknown SQL mode {mode!r}; known: {', '.join(sorted(SQL_MODES))}")
            return [m.upper() if isinstance(m, str) else m for m in value]
        return value


def server_args(config: dict[str, Any]) -> list[str]:
    """Server options from a (validated, dumped) config, the same for a container and a process."""
    args = [f"--character-set-server={config.get('charset') or 'utf8mb4'}"]
    if config.get("collation"):
        args.append(f"--collation-server={config['collation']}")
    if config.get("sql_mode") is not None:
        args.append(f"--sql-mode={','.join(config['sql_mode'])}")
    for key, value in sorted((config.get("settings") or {}).items()):
        rendered = ("ON" if value else "OFF") if isinstance(value, bool) else str(value)
        args.append(f"--{key.replace('_', '-')}={rendered}")
    return args
