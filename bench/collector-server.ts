// The collector as its own process for the ingest benchmark: `poet serve` on 127.0.0.1 with a fresh SQLite file; prints its URL.
import { serve } from '../src/train/collector'

const db = process.argv[2]
if (!db) {
  console.error('usage: node collector-server.mjs <sqlite file>')
  process.exit(2)
}
// The rate limit guards a shared collector from one noisy client; this benchmark measures raw ingest capacity.
const running = await serve({ db, port: 0, rateLimit: false })
console.log(running.url)
process.on('SIGTERM', () => void running.close().then(() => process.exit(0)))
