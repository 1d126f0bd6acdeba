// A live table of devices: each one's retained online status and its latest reading, the connection status,
// and a button that publishes a command. The broker and topic root come from the page's URL
// (`?broker=ws://host:9001&root=plant`), so one build works against any broker.
import { connect, type Status } from 'iotpubsub'

const params = new URLSearchParams(location.search)
const broker = params.get('broker') ?? 'ws://localhost:9001'
const root = params.get('root') ?? 'plant'

const statusLine = document.querySelector<HTMLParagraphElement>('#status')!
const table = document.querySelector<HTMLTableSectionElement>('#devices')!
const identify = document.querySelector<HTMLButtonElement>('#identify')!

const client = connect(broker)

/** One table row per device, made when the device is first heard of. */
function row(id: string): { online: HTMLTableCellElement; celsius: HTMLTableCellElement } {
  let tr = table.querySelector<HTMLTableRowElement>(`tr[data-device="${CSS.escape(id)}"]`)
  if (!tr) {
    tr = document.createElement('tr')
    tr.dataset.device = id
    for (const text of [id, '?', '…']) tr.insertCell().textContent = text
    table.append(tr)
  }
  return { online: tr.cells[1]!, celsius: tr.cells[2]! }
}

const describe = (s: Status): string => {
  switch (s.type) {
    case 'connecting': return `connecting to ${s.url}…`
    case 'connected': return `connected to ${s.url}`
    case 'reconnecting': return `reconnecting in ${Math.round(s.delay / 100) / 10} s: ${s.error.message}`
    case 'closed': return s.error ? `closed: ${s.error.message}` : 'closed'
  }
}
client.status$.subscribe((s) => (statusLine.textContent = describe(s)))

client.observe<boolean>(`${root}/+/online`, { codec: 'json' }).subscribe((m) => {
  row(m.params[0]!).online.textContent = m.payload ? 'online' : 'offline'
})

client.observe<{ celsius: number }>(`${root}/+/telemetry`, { codec: 'json' }).subscribe((m) => {
  row(m.params[0]!).celsius.textContent = `${m.payload.celsius.toFixed(1)} °C`
})

client.errors$.subscribe((error) => console.warn(`${error.name}: ${error.message}`))

identify.onclick = async () => {
  identify.disabled = true
  try {
    await client.publish(`${root}/all/cmd`, { command: 'identify' }, { qos: 1 })
    identify.textContent = 'Sent'
  } catch (error) {
    statusLine.textContent = `could not send: ${(error as Error).message}`
  } finally {
    identify.disabled = false
  }
}

window.addEventListener('pagehide', () => void client.end())
