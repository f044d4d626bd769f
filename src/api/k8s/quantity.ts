/**
 * A Kubernetes resource quantity in its canonical text form, as the API machinery prints it
 * (`Quantity.String()`): "80Gi" stays "80Gi", "2048Mi" becomes "2Gi", "0.5" becomes "500m",
 * "1000k" becomes "1M", "1.5Ki" becomes "1536". The DRA capacity selectors quote this form into
 * their CEL expressions (inventory §2.2.11), so it must be exact. Exact arithmetic on BigInt.
 */

const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^([+-]?)(\d*)(?:\.(\d*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/;

type Format = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

/** value = sign * mantissa * 10^exponent, exactly. */
interface Decimal {
  negative: boolean;
  mantissa: bigint;
  exponent: number;
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** Rounds up (away from zero) to nano precision, as the API machinery does when parsing. */
function roundToNano(d: Decimal): Decimal {
  if (d.exponent >= -9) return d;
  const shift = pow10(-9 - d.exponent);
  const whole = d.mantissa / shift;
  return { ...d, mantissa: d.mantissa % shift === 0n ? whole : whole + 1n, exponent: -9 };
}

/** Parses a quantity; undefined when the text is not one. */
function parse(text: string): { value: Decimal; format: Format } | undefined {
  const m = QUANTITY.exec(text.trim());
  if (!m) return undefined;
  const [, sign, whole = '', fraction = '', binary, exponent, decimal] = m;
  if (whole === '' && fraction === '') return undefined;
  let value: Decimal = { negative: sign === '-', mantissa: BigInt(`${whole}${fraction}` || '0'), exponent: -fraction.length };
  let format: Format = 'DecimalSI';
  if (binary) {
    format = 'BinarySI';
    value = { ...value, mantissa: value.mantissa * 1024n ** BigInt(BINARY_SUFFIXES.indexOf(binary)) };
  } else if (exponent) {
    format = 'DecimalExponent';
    value = { ...value, exponent: value.exponent + Number(exponent.slice(1)) };
  } else {
    value = { ...value, exponent: value.exponent + (DECIMAL_SUFFIXES[decimal ?? ''] ?? 0) };
  }
  value = roundToNano(value);
  return { value, format };
}

/** The value as an integer, when it is one. */
function asInteger(d: Decimal): bigint | undefined {
  if (d.exponent >= 0) return d.mantissa * pow10(d.exponent);
  const div = pow10(-d.exponent);
  return d.mantissa % div === 0n ? d.mantissa / div : undefined;
}

function decimalText(d: Decimal, format: Format): string {
  let mantissa = d.mantissa;
  let exponent = d.exponent;
  while (mantissa !== 0n && mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  while (((exponent % 3) + 3) % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  const sign = d.negative ? '-' : '';
  if (format === 'DecimalExponent') return `${sign}${mantissa}${exponent === 0 ? '' : `e${exponent}`}`;
  const suffix = Object.entries(DECIMAL_SUFFIXES).find(([, e]) => e === exponent)?.[0];
  return `${sign}${mantissa}${suffix ?? `e${exponent}`}`;
}

/** The canonical form of a quantity; the text unchanged when it does not parse. */
export function canonicalQuantity(text: string | number): string {
  const parsed = parse(String(text));
  if (!parsed) return String(text);
  const { value, format } = parsed;
  if (value.mantissa === 0n) return '0';
  if (format === 'BinarySI') {
    const whole = asInteger(value);
    // Below 1024, or not a whole number: printed in decimal, so nothing is rounded away.
    if (whole !== undefined && whole >= 1024n) {
      let n = whole;
      let k = 0;
      while (k < BINARY_SUFFIXES.length - 1 && n % 1024n === 0n) {
        n /= 1024n;
        k++;
      }
      return `${value.negative ? '-' : ''}${n}${BINARY_SUFFIXES[k]}`;
    }
    return decimalText(value, 'DecimalSI');
  }
  return decimalText(value, format);
}
