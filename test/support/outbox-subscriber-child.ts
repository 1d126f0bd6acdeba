// A subscriber that resumes its session (clean: false, a fixed client id) and acknowledges each QoS 1/2 message
// by hand once it has handled it: handling is printing `R <topic> <payload>`. It runs until it is killed.
// Arguments: url, client id, filter.
import { writeSync } from 'node:fs'
import { connect } from '../../lib/node.js'

/** A line to the parent, written before the acknowledgement; a pipe that is full for now is waited for. */
function say(line: string): void {
  for (;;) {
    try {
      writeSync(1, `${line}\n`)
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
    }
  }
}

const [url = '', clientId = '', filter = ''] = process.argv.slice(2)
const client = connect(url, { clientId, clean: false, sessionExpiryInterval: 300 })
client.observe(filter, { qos: 2, codec: 'text', ack: 'manual' }).subscribe((m) => {
  say(`R ${m.topic} ${m.payload}`)
  m.ack()
})
client.subscriptions$.subscribe((subs) => {
  if (subs.some((s) => s.grantedQos !== undefined)) say('S')
})
