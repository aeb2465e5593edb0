// Level 1: reliability at once — attempts with backoff, a timeout, and a checked result.
import { poet } from 'unplugin-poet/runtime'

export interface Forecast {
  city: string
  celsius: number
}

let calls = 0

/** A flaky upstream: the first two calls of each round fail, the third answers. */
export const fetchForecast = poet({ attempts: 3, backoff: { initial: 20, max: 200 } })(
  async function fetchForecast(city: string): Promise<Forecast> {
    calls++
    if (calls % 3 !== 0) throw new Error(`upstream unavailable (call ${calls})`)
    return { city, celsius: 21.5 }
  },
)

/** An upstream that hangs: the timeout abandons each attempt. */
export const slowLookup = poet({ attempts: 2, timeout: 50, backoff: { initial: 10 } })(
  async function slowLookup(city: string): Promise<Forecast> {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    return { city, celsius: 0 }
  },
)
