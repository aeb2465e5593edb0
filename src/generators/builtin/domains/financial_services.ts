// The `financial_services` pack: money amounts finite and no more precise than their currency, ISO 4217 codes, non-negative totals.
import type { TypeIR } from '../../spec'
import type { CodeRule, DomainPack, RuleSite } from '../domain'
import { comment } from '../../render'
import { block, core, elementOf, isNumber, isString, issue, issueExpr, keyHas, propValue, repaired, words } from './emit'

const AMOUNT = 'financial_services.money_amount'
const CURRENCY = 'financial_services.currency_code'
const TOTAL = 'financial_services.non_negative_total'
const IBAN = 'financial_services.iban'
const CARD = 'financial_services.card_number'

const AMOUNT_WORDS = new Set([
  'amount', 'amounts', 'price', 'prices', 'total', 'subtotal', 'balance', 'fee', 'fees', 'cost', 'costs', 'tax',
  'payment', 'refund', 'charge', 'deposit', 'withdrawal', 'principal', 'premium', 'discount', 'tip', 'salary',
  'revenue', 'credit', 'debit', 'cents', 'pence', 'minor',
])
/** Words that make an amount-like key a count, rate or id instead of money (`totalCount`, `taxRate`, `paymentId`). */
const NOT_MONEY = new Set(['count', 'qty', 'quantity', 'rate', 'percent', 'pct', 'ratio', 'id', 'ids', 'number', 'index', 'days', 'date', 'type', 'method', 'status'])
/** Keys that hold amounts in minor units (cents): integers. */
const MINOR_WORDS = new Set(['cents', 'pence', 'minor'])
const CURRENCY_WORDS = new Set(['currency', 'ccy'])
const TOTAL_WORDS = new Set(['total', 'subtotal', 'grandtotal'])
const isIbanKey = (key: string | undefined): boolean => keyHas(key, new Set(['iban']))
/** `cardNumber`, `card_no`, `pan`, `ccNumber` — not `cardHolder` or `cardType`. */
const isCardKey = (key: string | undefined): boolean => {
  const ws = words(key)
  return ws.includes('pan') || ((ws.includes('card') || ws.includes('cc')) && (ws.includes('number') || ws.includes('no') || ws.includes('num')))
}

const isAmountKey = (key: string | undefined): boolean => keyHas(key, AMOUNT_WORDS, NOT_MONEY)
const isMinorKey = (key: string | undefined): boolean => keyHas(key, MINOR_WORDS)
const isCurrencyKey = (key: string | undefined): boolean => keyHas(key, CURRENCY_WORDS, new Set(['symbol', 'name']))

/** Active ISO 4217 codes by their minor units (decimal digits). Funds and precious-metal codes are left out. */
const CURRENCY_DIGITS: Record<number, string> = {
  0: 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF',
  2: 'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL',
  3: 'BHD IQD JOD KWD LYD OMR TND',
  4: 'CLF UYW',
}

const helpers = `// financial_services: ISO 4217 minor units, and the decimal places a number is written with.
const FIN_DIGITS = new Map()
for (const [digits, codes] of Object.entries(${JSON.stringify(CURRENCY_DIGITS)})) for (const c of codes.split(' ')) FIN_DIGITS.set(c, Number(digits))
// Shortest round-trip form, so 0.1 + 0.2 shows its 17 places: float arithmetic on money is exactly what to catch.
function finDecimals(n) {
  const s = String(Math.abs(n))
  const e = s.indexOf('e')
  const mantissa = e < 0 ? s : s.slice(0, e)
  const dot = mantissa.indexOf('.')
  const places = dot < 0 ? 0 : mantissa.length - dot - 1
  return e < 0 ? places : Math.max(0, places - Number(s.slice(e + 1)))
}
// Decimal places allowed for amounts next to \`currency\`: its minor units when it is a known code (in any case: the
// code itself is judged by its own rule), else 2.
function finAllowed(currency) {
  const d = typeof currency === 'string' ? FIN_DIGITS.get(currency.trim().toUpperCase()) : undefined
  return d === undefined ? 2 : d
}
// ISO 13616: country, check digits, then the account; valid when the rearranged number is 1 modulo 97.
function finIban(s) {
  const iban = s.replace(/ /g, '')
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return false
  let r = 0
  for (const ch of iban.slice(4) + iban.slice(0, 4)) {
    const d = ch <= '9' ? ch : String(ch.charCodeAt(0) - 55)
    for (const digit of d) r = (r * 10 + (digit.charCodeAt(0) - 48)) % 97
  }
  return r === 1
}
// Card numbers: 12 to 19 digits (spaces or dashes between groups) passing the Luhn checksum.
function finLuhn(s) {
  const digits = s.replace(/[ -]/g, '')
  if (!/^[0-9]{12,19}$/.test(digits)) return false
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2
    sum += d
  }
  return sum % 10 === 0
}`

/** The sibling currency expression, when this site is a property of an object that has a currency-like string key. */
function siblingCurrency(site: RuleSite): string | undefined {
  const parent = site.parent && core(site.parent.type)
  if (!parent || parent.kind !== 'objectType') return undefined
  // Any type: a currency alias is a `ref` here, and `finAllowed` falls back to 2 places for whatever is not a known code.
  const prop = parent.properties.find((p) => isCurrencyKey(p.name))
  return prop && propValue(site.parent!.value, prop.name)
}

/** Code checking one amount (`v`, at path `p`): finite, then within the allowed decimals. */
function amountCheck(v: string, p: string, site: RuleSite): string {
  if (isMinorKey(site.key)) {
    return `if (typeof ${v} === 'number' && !Number.isSafeInteger(${v})) ${issue(p, 'integer amount in minor units', v, AMOUNT)}`
  }
  const currency = siblingCurrency(site)
  const allowed = currency ? `finAllowed(${currency})` : '2'
  return [
    `if (typeof ${v} === 'number') {`,
    `  if (!Number.isFinite(${v})) ${issue(p, 'finite amount', v, AMOUNT)}`,
    `  else if (finDecimals(${v}) > ${allowed}) ${issueExpr(p, `"amount with at most " + ${allowed} + " decimal places"`, v, AMOUNT)}`,
    `}`,
  ].join('\n')
}

const moneyAmount = (phase: 'perceive' | 'enforce'): CodeRule => ({
  id: AMOUNT,
  description:
    phase === 'perceive'
      ? 'amount-like keys (`amount`, `price`, `total`, `balance`, `fee` …) are finite with at most 2 decimals, or the minor units of a sibling `currency` (JPY 0, KWD 3); `…Cents`/`…Minor` keys are integers'
      : 'amounts in the result follow the same precision rules',
  check(site) {
    if (!isAmountKey(site.key)) return undefined
    if (isNumber(site.type)) return amountCheck(site.value, site.path, site)
    const el = elementOf(site.type)
    if (el && isNumber(el)) {
      return [
        `if (Array.isArray(${site.value})) for (let i = 0; i < ${site.value}.length; i++) {`,
        block([amountCheck(`${site.value}[i]`, `${site.path} + "[" + i + "]"`, { ...site, parent: undefined })]),
        `}`,
      ].join('\n')
    }
    return undefined
  },
  coerce(site) {
    if (phase !== 'perceive' || !site.target || !isAmountKey(site.key) || !wantsNumber(site.type)) return undefined
    return [
      `if (typeof ${site.value} === 'string' && /^\\s*-?\\d+(\\.\\d+)?\\s*$/.test(${site.value})) {`,
      `  ${site.target} = Number(${site.value});`,
      `  ${repaired(site.path, 'numeric string → number', AMOUNT)}`,
      `}`,
    ].join('\n')
  },
})

/** A number and never a string (where a string is allowed, it passes the type check and needs no repair). */
function wantsNumber(type: TypeIR): boolean {
  return isNumber(type) && !isString(type)
}

const currencyCode = (phase: 'perceive' | 'enforce'): CodeRule => ({
  id: CURRENCY,
  description: phase === 'perceive' ? 'currency-like keys (`currency`, `ccy` …) hold an active ISO 4217 code (`EUR`, `JPY`)' : 'currency codes in the result are ISO 4217',
  check(site) {
    if (!isCurrencyKey(site.key) || !isString(site.type)) return undefined
    return [
      `if (typeof ${site.value} === 'string' && !FIN_DIGITS.has(${site.value})) ${issue(site.path, 'ISO 4217 currency code', site.value, CURRENCY)}`,
    ].join('\n')
  },
  coerce(site) {
    if (phase !== 'perceive' || !site.target || !isCurrencyKey(site.key) || !isString(site.type)) return undefined
    return [
      `if (typeof ${site.value} === 'string' && ${site.value} !== ${site.value}.trim().toUpperCase() && FIN_DIGITS.has(${site.value}.trim().toUpperCase())) {`,
      `  ${site.target} = ${site.value}.trim().toUpperCase();`,
      `  ${repaired(site.path, 'currency code → upper case', CURRENCY)}`,
      `}`,
    ].join('\n')
  },
})

export const financialServices: DomainPack = {
  name: 'financial_services',
  version: '1.0.0',
  description: 'Money: amounts exact to their currency, ISO 4217 codes, totals that never go negative.',
  // Two tries only: a payment call that timed out may have gone through, so retries stay few and transient-only.
  policy: { attempts: 2, timeout: 15_000, retryOn: 'transient' },
  neverInEvents: ['values', 'comment'],
  helpers,
  perceive: [
    moneyAmount('perceive'),
    currencyCode('perceive'),
    {
      id: IBAN,
      description: '`iban` keys hold a valid IBAN (format and ISO 13616 check digits; print-format spaces allowed); repair removes the spaces and upper-cases',
      check(site) {
        if (!isIbanKey(site.key) || !isString(site.type)) return undefined
        return `if (typeof ${site.value} === 'string' && !finIban(${site.value})) ${issue(site.path, 'IBAN with valid check digits', site.value, IBAN)}`
      },
      coerce(site) {
        if (!site.target || !isIbanKey(site.key) || !isString(site.type)) return undefined
        const v = site.value
        return [
          `if (typeof ${v} === 'string' && ${v} !== ${v}.replace(/\\s+/g, '').toUpperCase() && finIban(${v}.replace(/\\s+/g, '').toUpperCase())) {`,
          `  ${site.target} = ${v}.replace(/\\s+/g, '').toUpperCase();`,
          `  ${repaired(site.path, 'IBAN → electronic format', IBAN)}`,
          `}`,
        ].join('\n')
      },
    },
    {
      id: CARD,
      description: 'card-number keys (`cardNumber`, `pan` …) hold 12–19 digits passing the Luhn check',
      check(site) {
        if (!isCardKey(site.key) || !isString(site.type)) return undefined
        return `if (typeof ${site.value} === 'string' && !finLuhn(${site.value})) ${issue(site.path, 'card number passing the Luhn check', site.value, CARD)}`
      },
    },
  ],
  enforce: [
    moneyAmount('enforce'),
    currencyCode('enforce'),
    {
      id: TOTAL,
      description: 'totals in the result (`total`, `subtotal`, or the whole result of a `…Total` function) are not negative',
      check(site) {
        if (site.phase !== 'enforce' || !keyHas(site.key, TOTAL_WORDS, NOT_MONEY) || !isNumber(site.type)) return undefined
        return `if (typeof ${site.value} === 'number' && ${site.value} < 0) ${issue(site.path, 'non-negative total', site.value, TOTAL)}`
      },
      whole(spec, phase) {
        if (phase !== 'enforce' || !words(spec.name.split('.').pop()).some((w) => TOTAL_WORDS.has(w)) || !isNumber(spec.returns, spec.types)) return undefined
        return `${comment(`${TOTAL}: ${spec.name} returns a total`)}\nif (typeof ctx.result === 'number' && ctx.result < 0) ${issue('"result"', 'non-negative total', 'ctx.result', TOTAL)}`
      },
    },
  ],
}
