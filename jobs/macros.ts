import { RawDeal, type RecordDef, sqlTypeOf } from '../schemas/index.ts';

/**
 * The only engine-specific SQL of the platform: a small, named set of scalar macros whose
 * semantics differ between DuckDB and Spark SQL. Job SQL calls these by name; each engine
 * supplies its own body (DuckDB: CREATE MACRO; Spark 3.5 has no SQL functions, so the Spark
 * engine inlines the body at each call, see inlineSparkMacros in jobs/engines/spark/plan.ts).
 *
 * Everything else in jobs/sql must be in the portable subset (see docs/engines.md).
 */
export interface MacroDef {
  readonly name: string;
  readonly params: readonly { name: string; sparkType: string }[];
  readonly sparkReturns: string;
  readonly duckdb: string;
  readonly spark: string;
  readonly why: string;
}

/**
 * Characters price text treats as a blank, as the code points they are (feeds write prices with
 * no-break and thin spaces): the Unicode space separators (Zs, which is exactly what DuckDB's
 * trim() strips and Spark's does not), the ASCII controls tab/LF/VT/FF/CR, NEL, the line and
 * paragraph separators, the zero-width space and the byte-order mark.
 */
export const UNICODE_BLANKS: readonly number[] = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x200b, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
];
/** The Unicode space separators (Zs): what DuckDB's trim() strips. */
export const UNICODE_SPACES: readonly number[] = [
  0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
  0x202f, 0x205f, 0x3000,
];

/**
 * Query parameters that only say where a click came from, dropped from the url a deal id is built
 * from (compared after ASCII lower-casing of the key; `utm_` is a prefix). The same offer linked
 * from several feeds, campaigns or shares then gets one id.
 */
export const TRACKING_PARAMS: readonly string[] = [
  'utm_*',
  'iref',
  'ref',
  'ref_',
  'fbclid',
  'gclid',
  'gclsrc',
  'dclid',
  'gbraid',
  'wbraid',
  'msclkid',
  'yclid',
  'twclid',
  'ttclid',
  'igshid',
  'mc_cid',
  'mc_eid',
  '_ga',
  '_gl',
  'sdtid',
];

/**
 * The HTML entities feed text carries once `&amp;` is undone (RSS descriptions are escaped once or
 * twice: `&amp;#8217;`), as [entity, character]. Numeric references cannot be decoded generally in
 * portable SQL (no code-point function both engines share), so the ones feeds use are listed:
 * dashes, quotes, the ellipsis, ™ ® ©, the no-break space and the HTML specials, named and decimal.
 */
export const HTML_ENTITIES: readonly (readonly [string, string])[] = [
  ...(
    [
      [8211, 'ndash'],
      [8212, 'mdash'],
      [8216, 'lsquo'],
      [8217, 'rsquo'],
      [8220, 'ldquo'],
      [8221, 'rdquo'],
      [8230, 'hellip'],
      [8482, 'trade'],
      [174, 'reg'],
      [169, 'copy'],
      [160, 'nbsp'],
      [34, 'quot'],
      [39, 'apos'],
      [60, 'lt'],
      [62, 'gt'],
    ] as const
  ).flatMap(([code, name]) => {
    const ch = code === 160 ? ' ' : String.fromCodePoint(code);
    return [
      [`&${name};`, ch],
      [`&#${code};`, ch],
    ] as [string, string][];
  }),
  // Spark inlines a macro body at every use and each entity is one nested replace() of it: the
  // list stays short (a 110-entry list ran the Spark driver out of heap on the cleanup job).
  ['&#x27;', "'"],
  ['&#x2019;', '’'],
  ['&#038;', '&'],
  ['&#38;', '&'],
  ['&amp;', '&'],
];

/** SQL: `s` with every HTML_ENTITIES entity replaced (one nested replace; the same text on both engines). */
function decodeEntitiesSql(s: string): string {
  const quote = (t: string) => (t === "'" ? 'chr(39)' : `'${t}'`);
  return HTML_ENTITIES.reduce((acc, [e, ch]) => `replace(${acc}, '${e}', ${quote(ch)})`, s);
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
/** A regex character class of the code points, written as the characters themselves (no escapes: both engines read them alike). */
const charClass = (codePoints: readonly number[]) => `[${String.fromCodePoint(...codePoints)}]`;
/** Whether the query key `key` is a tracking parameter (ASCII case-insensitively). */
const isTrackingKey = (key: string, dialect: 'duckdb' | 'spark') => {
  const k = guardedAsciiLower(key, dialect);
  const exact = TRACKING_PARAMS.filter((p) => !p.endsWith('*')).map((p) => `'${p}'`);
  const prefixes = TRACKING_PARAMS.filter((p) => p.endsWith('*')).map((p) =>
    dialect === 'duckdb' ? `starts_with(${k}, '${p.slice(0, -1)}')` : `startswith(${k}, '${p.slice(0, -1)}')`,
  );
  return `(${k} IN (${exact.join(', ')}) OR ${prefixes.join(' OR ')})`;
};
/** The query key of `q` without building a list when `q` has a single parameter. */
const singleParamFirst = (general: string, isTracking: string) =>
  `CASE WHEN q IS NULL THEN NULL WHEN NOT contains(q, '&') THEN CASE WHEN ${isTracking} THEN '' ELSE q END ELSE ${general} END`;
const asciiLower = (s: string) => `translate(${s}, '${UPPER}', '${LOWER}')`;
/**
 * A-Z folded to a-z, nothing else: an ASCII string (as many bytes as characters) takes the fast
 * built-in lower(), which folds ASCII alike on both engines; translate() only for the rest.
 * (Written out per use: a Spark macro body cannot call another macro.)
 */
function guardedAsciiLower(s: string, dialect: 'duckdb' | 'spark'): string {
  const ascii =
    dialect === 'duckdb' ? `strlen(${s}) = length(${s})` : `octet_length(${s}) = char_length(${s})`;
  return `CASE WHEN ${ascii} THEN lower(${s}) ELSE ${asciiLower(s)} END`;
}
const spaceList = UNICODE_SPACES.map((c) => `'${String.fromCodePoint(c)}'`).join(', ');
const blankAtAnEnd = `(left(s, 1) IN (${spaceList}) OR right(s, 1) IN (${spaceList}))`;
const spacesAtEnds = `^${charClass(UNICODE_SPACES)}+|${charClass(UNICODE_SPACES)}+$`;

export const MACROS: readonly MacroDef[] = [
  {
    name: 're_replace_all',
    params: [
      { name: 's', sparkType: 'STRING' },
      { name: 'pattern', sparkType: 'STRING' },
      { name: 'replacement', sparkType: 'STRING' },
    ],
    sparkReturns: 'STRING',
    duckdb: "regexp_replace(s, pattern, replacement, 'g')",
    spark: 'regexp_replace(s, pattern, replacement)',
    why: 'DuckDB replaces only the first match unless given the g flag; Spark always replaces all.',
  },
  {
    name: 're_matches',
    params: [
      { name: 's', sparkType: 'STRING' },
      { name: 'pattern', sparkType: 'STRING' },
    ],
    sparkReturns: 'BOOLEAN',
    duckdb: 'regexp_matches(s, pattern)',
    spark: 's RLIKE pattern',
    why: 'No common name for an unanchored regex test.',
  },
  {
    name: 'epoch_seconds',
    params: [{ name: 'ts', sparkType: 'TIMESTAMP_NTZ' }],
    sparkReturns: 'DOUBLE',
    duckdb: 'CAST(epoch_us(ts) AS DOUBLE) / 1000000.0',
    spark: 'CAST(unix_micros(to_utc_timestamp(ts, current_timezone())) AS DOUBLE) / 1000000.0',
    why: 'epoch() vs unix_timestamp(); Spark needs the UTC interpretation of a zone-less timestamp.',
  },
  {
    name: 'days_between',
    params: [
      { name: 'start_date', sparkType: 'DATE' },
      { name: 'end_date', sparkType: 'DATE' },
    ],
    sparkReturns: 'INT',
    duckdb: "CAST(date_diff('day', start_date, end_date) AS INTEGER)",
    spark: 'datediff(end_date, start_date)',
    why: 'datediff argument order and unit argument differ.',
  },
  {
    name: 'ascii_lower',
    params: [{ name: 's', sparkType: 'STRING' }],
    sparkReturns: 'STRING',
    duckdb: guardedAsciiLower('s', 'duckdb'),
    spark: guardedAsciiLower('s', 'spark'),
    why:
      'lower() is Unicode-aware and differs between engines (Greek final sigma, Turkish dotted I: ' +
      'Spark follows the JVM locale); the jobs only need A-Z folded.',
  },
  {
    name: 'blanks_to_space',
    params: [{ name: 's', sparkType: 'STRING' }],
    sparkReturns: 'STRING',
    duckdb: `regexp_replace(s, '${charClass(UNICODE_BLANKS)}', ' ', 'g')`,
    spark: `regexp_replace(s, '${charClass(UNICODE_BLANKS)}', ' ')`,
    why: 'every Unicode blank becomes an ASCII space, so trim and the price patterns see the same text on both engines.',
  },
  {
    name: 'trim_spaces',
    params: [{ name: 's', sparkType: 'STRING' }],
    sparkReturns: 'STRING',
    // Most strings have no blank at either end: they are returned as they are.
    duckdb: `CASE WHEN ${blankAtAnEnd} THEN trim(s) ELSE s END`,
    spark: `CASE WHEN ${blankAtAnEnd} THEN regexp_replace(s, '${spacesAtEnds}', '') ELSE s END`,
    why: "DuckDB's trim strips every Unicode space separator (Zs), Spark's only U+0020.",
  },
  {
    name: 'url_query_key',
    params: [{ name: 'q', sparkType: 'STRING' }],
    sparkReturns: 'STRING',
    // Most feed links carry one parameter (often a tracking one): no list is built for them.
    duckdb: singleParamFirst(
      `array_to_string(list_sort(list_filter(string_split(q, '&'), lambda x: x <> '' AND NOT ${isTrackingKey("split_part(x, '=', 1)", 'duckdb')})), '&')`,
      isTrackingKey("split_part(q, '=', 1)", 'duckdb'),
    ),
    spark: singleParamFirst(
      `array_join(array_sort(filter(split(q, '&'), x -> x <> '' AND NOT ${isTrackingKey("split_part(x, '=', 1)", 'spark')})), '&')`,
      isTrackingKey("split_part(q, '=', 1)", 'spark'),
    ),
    why:
      'a query string without tracking parameters, the rest sorted (byte order) and joined by &: ' +
      'list functions and lambdas are spelled differently.',
  },
  {
    name: 'decode_entities',
    params: [{ name: 's', sparkType: 'STRING' }],
    sparkReturns: 'STRING',
    // `&amp;` is undone twice first (double-escaped feeds), then every listed entity; text
    // without an & is returned as it is.
    duckdb: `CASE WHEN contains(s, '&') THEN ${decodeEntitiesSql("replace(replace(s, '&amp;', '&'), '&amp;', '&')")} ELSE s END`,
    spark: `CASE WHEN contains(s, '&') THEN ${decodeEntitiesSql("replace(replace(s, '&amp;', '&'), '&amp;', '&')")} ELSE s END`,
    why: 'the same body on both engines; a macro so that titles and descriptions share one entity list.',
  },
  {
    name: 'amount_text',
    params: [{ name: 'amount', sparkType: 'DOUBLE' }],
    sparkReturns: 'STRING',
    // Cents by IEEE arithmetic (identical on both engines), printed as integers: CAST(double AS
    // STRING) gives 12345678.9 on DuckDB and 1.23456789E7 on Spark.
    duckdb: amountText('amount'),
    spark: amountText('amount'),
    why: 'doubles render differently as text; amounts are printed with two decimals from integer cents.',
  },
];

/** `12345678.90`; `-0.50`; `more than 10000000000000` above 10^13 (where cents stop being exact). */
function amountText(a: string): string {
  const hundred = 'CAST(100 AS DOUBLE)';
  const cents = `floor(abs(${a}) * ${hundred} + CAST(0.5 AS DOUBLE))`;
  const units = `floor(${cents} / ${hundred})`;
  return `CASE WHEN abs(${a}) >= CAST(1e13 AS DOUBLE) THEN 'more than 10000000000000' ELSE concat(CASE WHEN ${a} < 0 THEN '-' ELSE '' END, CAST(CAST(${units} AS BIGINT) AS STRING), '.', lpad(CAST(CAST(${cents} - ${hundred} * ${units} AS BIGINT) AS STRING), 2, '0')) END`;
}

export function duckdbMacroStatements(): string[] {
  return MACROS.map(
    (m) => `CREATE OR REPLACE TEMP MACRO ${m.name}(${m.params.map((p) => p.name).join(', ')}) AS ${m.duckdb}`,
  );
}

export function sparkMacroStatements(): string[] {
  return MACROS.map(
    (m) =>
      `CREATE OR REPLACE TEMPORARY FUNCTION ${m.name}(${m.params.map((p) => `${p.name} ${p.sparkType}`).join(', ')}) RETURNS ${m.sparkReturns} RETURN ${m.spark}`,
  );
}

/**
 * `<name>(field, ...)` → the record as a JSON object string, fields in declared order, nulls
 * kept, timestamps as ISO-8601 UTC with microseconds. Derived from the schema, so quarantine
 * rows carry the original record in the same shape on both engines.
 */
function recordJsonMacro(def: RecordDef, name: string): MacroDef {
  const fields = Object.entries(def.fields);
  const duckValue = (f: string, kind: string) =>
    kind === 'timestamp' ? `strftime(${f}, '%Y-%m-%dT%H:%M:%S.%fZ')` : f;
  // Spark SQL has no '' escape inside string literals ('a''b' is 'a' 'b', concatenated): no quoted
  // pattern letters, the T and Z are concatenated instead.
  const sparkValue = (f: string, kind: string) =>
    kind === 'timestamp'
      ? `concat(date_format(${f}, 'yyyy-MM-dd'), 'T', date_format(${f}, 'HH:mm:ss.SSSSSS'), 'Z')`
      : f;
  return {
    name,
    params: fields.map(([f, spec]) => ({ name: f, sparkType: sqlTypeOf(spec, 'spark') })),
    sparkReturns: 'STRING',
    duckdb: `CAST(to_json(struct_pack(${fields.map(([f, s]) => `${f} := ${duckValue(f, s.kind)}`).join(', ')})) AS VARCHAR)`,
    spark: `to_json(named_struct(${fields.map(([f, s]) => `'${f}', ${sparkValue(f, s.kind)}`).join(', ')}), map('ignoreNullFields', 'false'))`,
    why: 'struct construction and JSON rendering differ between engines.',
  };
}

(MACROS as MacroDef[]).push(recordJsonMacro(RawDeal, 'raw_deal_json'));
