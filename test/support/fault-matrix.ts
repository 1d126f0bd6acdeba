// The fault matrix: every cut point of every MQTT flow, with the outcome the user sees when the session
// survives the cut and when it is lost. test/reliability/fault-matrix.test.ts runs each case through
// MqttFaultProxy against a real Mosquitto, over both links and both protocol versions, and asserts the
// outcome declared here; test/reliability/FAULT-MATRIX.md and the README's delivery table are rendered from
// these declarations. Regenerate after changing one:
//   npx tsx test/support/fault-matrix.ts --write
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Direction, PacketName } from './mqtt-fault-proxy.js'

export const faultMatrixFile = fileURLToPath(new URL('../reliability/FAULT-MATRIX.md', import.meta.url))

export type Flow = 'publish-out' | 'publish-in' | 'subscribe' | 'unsubscribe'
export type Session = 'kept' | 'lost'
export type Times = 'at least once' | 'exactly once' | 'at most once' | 'never'

export interface CutPoint {
  readonly label: string
  readonly direction: Direction
  readonly type: PacketName
  readonly action: 'cut-before' | 'cut-after'
}

/** What the user sees after the cut and the reconnect. */
export type Expected =
  | { readonly flow: 'publish-out'; readonly promise: 'resolves' | 'PublishOutcomeUnknownError'; readonly resent: boolean; readonly delivered: Times }
  | { readonly flow: 'publish-in'; readonly delivered: Times }
  | { readonly flow: 'subscribe' | 'unsubscribe' }

export interface FaultCase {
  readonly flow: Flow
  readonly qos: 1 | 2
  readonly cut: CutPoint
  readonly session: Session
  readonly expected: Expected
}

const cut = (label: string, direction: Direction, type: PacketName, action: CutPoint['action']): CutPoint => ({ label, direction, type, action })

const PUBLISH_OUT: Record<1 | 2, CutPoint[]> = {
  1: [
    cut('before PUBLISH reaches the broker', 'out', 'PUBLISH', 'cut-before'),
    cut('after PUBLISH reaches the broker', 'out', 'PUBLISH', 'cut-after'),
    cut('before PUBACK reaches the client', 'in', 'PUBACK', 'cut-before'),
  ],
  2: [
    cut('before PUBLISH reaches the broker', 'out', 'PUBLISH', 'cut-before'),
    cut('after PUBLISH reaches the broker', 'out', 'PUBLISH', 'cut-after'),
    cut('after PUBREC reaches the client', 'in', 'PUBREC', 'cut-after'),
    cut('after PUBREL reaches the broker', 'out', 'PUBREL', 'cut-after'),
    cut('before PUBCOMP reaches the client', 'in', 'PUBCOMP', 'cut-before'),
  ],
}

const PUBLISH_IN: Record<1 | 2, CutPoint[]> = {
  1: [
    cut("after the broker's PUBLISH reaches the client", 'in', 'PUBLISH', 'cut-after'),
    cut('after PUBACK reaches the broker', 'out', 'PUBACK', 'cut-after'),
  ],
  2: [
    cut("after the broker's PUBLISH reaches the client", 'in', 'PUBLISH', 'cut-after'),
    cut('after PUBREC reaches the broker', 'out', 'PUBREC', 'cut-after'),
    cut('after PUBREL reaches the client', 'in', 'PUBREL', 'cut-after'),
    cut('after PUBCOMP reaches the broker', 'out', 'PUBCOMP', 'cut-after'),
  ],
}

const requests = (request: 'SUBSCRIBE' | 'UNSUBSCRIBE', answer: 'SUBACK' | 'UNSUBACK'): CutPoint[] => [
  cut(`before ${request} reaches the broker`, 'out', request, 'cut-before'),
  cut(`after ${request} reaches the broker`, 'out', request, 'cut-after'),
  cut(`before ${answer} reaches the client`, 'in', answer, 'cut-before'),
]

/** How often a QoS 2 message whose session was lost mid-flow reached the subscriber: fixed by the broker's progress. */
function lostQos2Delivery(point: CutPoint): Times {
  if (point.type === 'PUBLISH' && point.action === 'cut-before') return 'never'
  if (point.type === 'PUBREL' || point.type === 'PUBCOMP') return 'exactly once'
  return 'at most once'
}

function publishOut(qos: 1 | 2, point: CutPoint, session: Session): Expected {
  if (session === 'kept') return { flow: 'publish-out', promise: 'resolves', resent: true, delivered: qos === 1 ? 'at least once' : 'exactly once' }
  if (qos === 1) return { flow: 'publish-out', promise: 'resolves', resent: true, delivered: 'at least once' }
  return { flow: 'publish-out', promise: 'PublishOutcomeUnknownError', resent: false, delivered: lostQos2Delivery(point) }
}

function publishIn(qos: 1 | 2, point: CutPoint, session: Session): Expected {
  if (qos === 1) return { flow: 'publish-in', delivered: 'at least once' }
  if (session === 'kept') return { flow: 'publish-in', delivered: 'exactly once' }
  // The client has the message once PUBREL came; before that, the broker dropped it with the session.
  return { flow: 'publish-in', delivered: point.type === 'PUBLISH' || point.type === 'PUBREC' ? 'at most once' : 'exactly once' }
}

const SESSIONS: Session[] = ['kept', 'lost']

/** Every case of the matrix, in table order (each runs under MQTT 5 and 3.1.1). */
export const faultCases: readonly FaultCase[] = [
  ...([1, 2] as const).flatMap((qos) => PUBLISH_OUT[qos].flatMap((point) => SESSIONS.map((session) => ({ flow: 'publish-out' as const, qos, cut: point, session, expected: publishOut(qos, point, session) })))),
  ...([1, 2] as const).flatMap((qos) => PUBLISH_IN[qos].flatMap((point) => SESSIONS.map((session) => ({ flow: 'publish-in' as const, qos, cut: point, session, expected: publishIn(qos, point, session) })))),
  ...requests('SUBSCRIBE', 'SUBACK').flatMap((point) => SESSIONS.map((session) => ({ flow: 'subscribe' as const, qos: 1 as const, cut: point, session, expected: { flow: 'subscribe' as const } }))),
  ...requests('UNSUBSCRIBE', 'UNSUBACK').flatMap((point) => SESSIONS.map((session) => ({ flow: 'unsubscribe' as const, qos: 1 as const, cut: point, session, expected: { flow: 'unsubscribe' as const } }))),
]

/** A case's name in test output: `publish-out QoS 2 after PUBREC reaches the client, session lost`. */
export function caseName(c: FaultCase): string {
  return `${c.flow}${c.flow.startsWith('publish') ? ` QoS ${c.qos}` : ''} ${c.cut.label}, session ${c.session}`
}

const TIMES: Record<Times, string> = {
  'at least once': 'delivered at least once',
  'exactly once': 'delivered exactly once',
  'at most once': 'delivered at most once',
  never: 'not delivered',
}

/** The outcome the user sees, as the table states it. */
export function describeOutcome(expected: Expected, qos: 1 | 2, session: Session): string {
  switch (expected.flow) {
    case 'publish-out':
      if (expected.promise === 'PublishOutcomeUnknownError') return `rejects \`PublishOutcomeUnknownError\`, not resent; ${TIMES[expected.delivered]}`
      if (session === 'lost') return `published again as a new message, resolves on its PUBACK; ${TIMES[expected.delivered]}`
      return `resolves after the ${qos === 1 ? 'resend' : 'flow completes on the new connection'}; ${TIMES[expected.delivered]}`
    case 'publish-in':
      return TIMES[expected.delivered]
    case 'subscribe':
      return 'subscribed again on the new connection: messages arrive; unsubscribe ends delivery'
    case 'unsubscribe':
      return 'nothing is delivered to the filter after the reconnect'
  }
}

const FLOWS: Record<Flow, string> = { 'publish-out': 'publish', 'publish-in': 'receive', subscribe: 'observe', unsubscribe: 'stop observing' }

/** The table alone, as the README shows it. */
export function renderFaultMatrixTable(cases: readonly FaultCase[] = faultCases): string {
  const rows: string[] = []
  const done = new Set<string>()
  for (const c of cases) {
    const key = `${c.flow}/${c.qos}/${c.cut.label}`
    if (done.has(key)) continue
    done.add(key)
    const outcome = (session: Session): string => {
      const found = cases.find((o) => o.flow === c.flow && o.qos === c.qos && o.cut === c.cut && o.session === session)
      return found ? describeOutcome(found.expected, c.qos, session) : '—'
    }
    const flow = c.flow.startsWith('publish') ? `${FLOWS[c.flow]}, QoS ${c.qos}` : FLOWS[c.flow]
    rows.push(`| ${flow} | ${c.cut.label} | ${outcome('kept')} | ${outcome('lost')} |`)
  }
  return ['| flow | connection cut | session kept (`clean: false`) | session lost (clean start) |', '|---|---|---|---|', ...rows, ''].join('\n')
}

/** FAULT-MATRIX.md: the table and where it comes from. */
export function renderFaultMatrix(cases: readonly FaultCase[] = faultCases): string {
  return [
    '<!-- Generated by test/support/fault-matrix.ts from the cases that test/reliability/fault-matrix.test.ts',
    '     asserts over both links, MQTT 5 and 3.1.1. Do not edit by hand. -->',
    '',
    renderFaultMatrixTable(cases),
  ].join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--write')) writeFileSync(faultMatrixFile, renderFaultMatrix())
  else process.stdout.write(renderFaultMatrix())
}
