// Level 2: a financial function whose input and output are checked from its TypeScript types.
import { poet } from 'unplugin-poet/runtime'

export interface LineItem {
  sku: string
  quantity: number
  price: number
}

export interface Order {
  id: string
  currency: 'EUR' | 'USD'
  items: LineItem[]
  note?: string
}

export interface Invoice {
  orderId: string
  total: number
  lines: number
}

export const priceOrder = poet({ domain: 'financial_services' })(function priceOrder(order: Order): Invoice {
  let total = 0
  for (const item of order.items) total += item.quantity * item.price
  return { orderId: order.id, total: Math.round(total * 100) / 100, lines: order.items.length }
})
