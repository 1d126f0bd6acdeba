// A process that writes to a file store until it is killed. After each batch's writes resolved (durable) it
// prints how many changes are durable so far, so that the parent knows the least the store must hold.
// Arguments: dir, client id, seed.
import { writeSync } from 'node:fs'
import { fileStore } from '../../lib/store/file-store.js'
import { crashBatches, crashPayload } from './store-crash-ops.js'

const [dir = '', clientId = '', seed = '1'] = process.argv.slice(2)
const store = fileStore(dir, { compactAfterBytes: 4096 })
await store.open(clientId)
let durable = 0
for (const batch of crashBatches(Number(seed))) {
  await Promise.all(
    batch.map((op) =>
      op.type === 'add'
        ? store.write({ type: 'add', message: { id: `m${op.id}`, topic: `t/${op.id}`, payload: crashPayload(op.id), qos: 1, retain: false } })
        : store.write({ type: 'remove', id: `m${op.id}` }),
    ),
  )
  durable += batch.length
  writeSync(1, `${durable}\n`)
}
