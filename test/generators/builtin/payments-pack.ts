// A team's own pack, as the README shows one: the builtin money rules (its parent's) plus a limit, and no retries.
import type { DomainPack } from '../../../src/generators/builtin/domain'

export const paymentsPack: DomainPack = {
  name: 'financial_services:payments',
  version: '1.0.0',
  description: 'Card payments up to 10 000.',
  policy: { attempts: 1 },
  helpers: 'const PAY_LIMIT = 10000',
  perceive: [
    {
      id: 'financial_services:payments.max_amount',
      description: 'amounts at most 10 000',
      check: (site) =>
        site.key === 'amount'
          ? `if (typeof ${site.value} === 'number' && ${site.value} > PAY_LIMIT) issues = add(issues, ${site.path}, "amount ≤ 10000", ${site.value}, "financial_services:payments.max_amount")`
          : undefined,
    },
  ],
}
