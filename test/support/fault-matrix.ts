// The fault matrix: every cut point of every MQTT flow, with the outcome the user sees when the session
// survives the cut and when it is lost. test/reliability/fault-matrix.test.ts runs each case through
// MqttFaultProxy against a real Mosquitto, over both links and both protocol versions, and asserts the
// outcome declared here; test/reliability/FAULT-MATRIX.md and the tables of docs/guide/delivery.md are rendered
// from these declarations. Regenerate after changing one (and paste the tables into that page):
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

/** The cut table alone. */
export function renderCutTable(cases: readonly FaultCase[] = faultCases): string {
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

// --- packets withheld, delayed or left unread ------------------------------------------------------------------
// The faults that do not cut the connection themselves: the broker stops reading, one acknowledgement never
// comes (the publish's timeout, then the next connection), one comes after the timeout, the broker's PINGRESPs
// never come, and the client stops reading behind a manually acknowledged message. Each runs under MQTT 5 and
// 3.1.1 over the link under test; a case that makes no new connection runs under a clean start only.

/** What the stall cases check, and the outcome the table states. */
export type StallExpected =
  /** The proxy stops reading the client's bytes, until the publishes are refused; then it reads again. */
  | { readonly kind: 'broker-stops-reading'; readonly qos: 0 | 1 | 2 }
  /** One acknowledgement withheld for good: the publish times out; then the connection is cut. */
  | {
      readonly kind: 'withheld-ack'
      readonly qos: 1 | 2
      readonly packet: 'PUBACK' | 'PUBREC' | 'PUBCOMP'
      readonly session: Session
      readonly delivered: Times
      /** What the next connection carries of the flow. */
      readonly resent: 'PUBLISH' | 'PUBREL' | 'nothing'
      /** Whether the packet identifier is free once the next connection is up. */
      readonly freed: boolean
    }
  /** One SUBACK or UNSUBACK withheld for good; then the connection is cut. */
  | { readonly kind: 'withheld-request'; readonly packet: 'SUBACK' | 'UNSUBACK'; readonly session: Session }
  /** Every PINGRESP withheld on the first connection, and the PUBACK of a publish made meanwhile. */
  | { readonly kind: 'withheld-pingresp'; readonly session: Session }
  /** One acknowledgement held until the publish has timed out, then let through on the same connection. */
  | { readonly kind: 'delayed-ack'; readonly qos: 1 | 2; readonly packet: 'PUBACK' | 'PUBREC' | 'PUBCOMP' }
  /** A manually acknowledged message held while more than the client's read-ahead arrives behind it. */
  | { readonly kind: 'client-stops-reading' }

export interface StallCase {
  readonly flow: 'publish' | 'observe' | 'stop observing' | 'keepalive' | 'receive, manual ack'
  readonly fault: string
  readonly expected: StallExpected
  /**
   * A defect the case shows under one protocol version, stated in the table: there the test asserts that the
   * invariants fail as described, so that the fix makes it fail until this is taken out.
   */
  readonly defect?: { readonly version: 4 | 5; readonly what: string }
}

const withheldAck = (qos: 1 | 2, packet: 'PUBACK' | 'PUBREC' | 'PUBCOMP', session: Session): StallCase => {
  // A kept session resends what is in flight, timed out or not (MQTT-4.4.0-1): the PUBLISH with DUP (its PUBREC
  // then answered with PUBREL), or a released QoS 2's PUBREL; the flow ends and frees the identifier. The broker
  // forwards a QoS 2 message on PUBREL: withheld PUBREC and a lost session, it is never released.
  const kept = session === 'kept'
  const delivered: Times = packet === 'PUBACK' ? 'at least once' : packet === 'PUBCOMP' || kept ? 'exactly once' : 'never'
  const resent = !kept ? 'nothing' : packet === 'PUBCOMP' ? 'PUBREL' : 'PUBLISH'
  return { flow: 'publish', fault: `${packet} withheld, session ${session}`, expected: { kind: 'withheld-ack', qos, packet, session, delivered, resent, freed: true } }
}

/** Every stall case, in table order. */
export const stallCases: readonly StallCase[] = [
  ...([0, 1, 2] as const).map((qos): StallCase => ({
    flow: 'publish',
    fault: `QoS ${qos}, the broker stops reading`,
    expected: { kind: 'broker-stops-reading', qos },
  })),
  ...SESSIONS.map((session) => withheldAck(1, 'PUBACK', session)),
  ...(['PUBREC', 'PUBCOMP'] as const).flatMap((packet) => SESSIONS.map((session) => withheldAck(2, packet, session))),
  ...([[1, 'PUBACK'], [2, 'PUBREC'], [2, 'PUBCOMP']] as const).map(([qos, packet]): StallCase => ({ flow: 'publish', fault: `QoS ${qos}, ${packet} arrives after the timeout`, expected: { kind: 'delayed-ack', qos, packet } })),
  ...SESSIONS.map((session): StallCase => ({ flow: 'observe', fault: `SUBACK withheld, session ${session}`, expected: { kind: 'withheld-request', packet: 'SUBACK', session } })),
  ...SESSIONS.map((session): StallCase => ({ flow: 'stop observing', fault: `UNSUBACK withheld, session ${session}`, expected: { kind: 'withheld-request', packet: 'UNSUBACK', session } })),
  ...SESSIONS.map((session): StallCase => ({ flow: 'keepalive', fault: `PINGRESP withheld, session ${session}`, expected: { kind: 'withheld-pingresp', session } })),
  { flow: 'receive, manual ack', fault: 'a handler holds a message while over 1 MiB arrives behind it: the client stops reading', expected: { kind: 'client-stops-reading' } },
]

/** A stall case's name in test output. */
export function stallCaseName(c: StallCase): string {
  return `${c.flow}: ${c.fault}`
}

/** The outcome the user sees, as the table states it. */
export function describeStall(expected: StallExpected): string {
  switch (expected.kind) {
    case 'broker-stops-reading':
      return `past 1 MiB unsent in the socket publishes wait in the queue, past its limits \`QueueFullError\`; the bytes the client holds stop growing; ${expected.qos === 0 ? 'a publish resolves only once handed to the socket, and each resolved one arrives' : `the waiting ones resolve once the broker reads again; ${TIMES[expected.qos === 1 ? 'at least once' : 'exactly once']}`}`
    case 'withheld-ack': {
      const next =
        expected.resent === 'PUBREL'
          ? 'the next connection resends the PUBREL, and its PUBCOMP frees the identifier'
          : expected.resent === 'PUBLISH'
            ? `the next connection resends the PUBLISH with DUP (MQTT-4.4.0-1), and ${expected.qos === 1 ? 'its PUBACK frees' : 'its PUBREC, PUBREL and PUBCOMP free'} the identifier`
            : 'not resent; the lost session frees the identifier'
      return `rejects \`PublishTimeoutError\` at its timeout; ${next}; ${TIMES[expected.delivered]}`
    }
    case 'delayed-ack':
      return `rejects \`PublishTimeoutError\` at its timeout and stays rejected; the identifier is freed only by the late ${expected.packet === 'PUBREC' ? 'PUBREC (answered with PUBREL) and its PUBCOMP' : expected.packet}; delivered ${expected.qos === 1 ? 'at least' : 'exactly'} once`
    case 'withheld-request':
      return expected.packet === 'SUBACK'
        ? 'the broker has subscribed: messages reach the observer meanwhile; the client waits for the SUBACK (no timeout, no reconnect); the next connection subscribes again: messages arrive, unsubscribe ends delivery'
        : 'the broker has unsubscribed: nothing more is delivered; observing the filter again subscribes again at once; the next connection keeps it so'
    case 'withheld-pingresp':
      return `keepalive detects it within 1.5 × keepalive and reconnects once; a QoS 1 publish whose PUBACK was withheld with them is resent and resolves${expected.session === 'kept' ? ', and a message the broker had queued for the client arrives' : ''}`
    case 'client-stops-reading':
      return "the client's own publishes still settle while under the read-ahead; past it the socket pauses, PINGREQs still go out and the keepalive does not expire; after the ack every message arrives, in order, on one connection"
  }
}

/** The stall table, as docs/guide/delivery.md shows it. */
export function renderStallTable(cases: readonly StallCase[] = stallCases): string {
  const rows = cases.map((c) => `| ${c.flow} | ${c.fault} | ${describeStall(c.expected)}${c.defect ? `. **Known defect**: ${c.defect.what}` : ''} |`)
  return ['| flow | packet withheld, delayed or left unread | outcome |', '|---|---|---|', ...rows, ''].join('\n')
}

/** The tables, as docs/guide/delivery.md shows them: connection cuts, then packets withheld, delayed or left unread. */
export function renderFaultMatrixTable(cases: readonly FaultCase[] = faultCases, stalls: readonly StallCase[] = stallCases): string {
  return [renderCutTable(cases), renderStallTable(stalls)].join('\n')
}

/** FAULT-MATRIX.md: the tables and where they come from. */
export function renderFaultMatrix(cases: readonly FaultCase[] = faultCases, stalls: readonly StallCase[] = stallCases): string {
  return [
    '<!-- Generated by test/support/fault-matrix.ts from the cases that test/reliability/fault-matrix.test.ts',
    '     asserts over both links, MQTT 5 and 3.1.1. Do not edit by hand. -->',
    '',
    renderFaultMatrixTable(cases, stalls),
  ].join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--write')) writeFileSync(faultMatrixFile, renderFaultMatrix())
  else process.stdout.write(renderFaultMatrix())
}
