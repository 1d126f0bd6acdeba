/**
 * AWS Signature Version 4 for a presigned URL, as AWS IoT Core takes one for MQTT over WebSockets: a recipe to
 * copy into an app, not part of the SDK. It uses Web Crypto only (`crypto.subtle`), so it runs in browsers and
 * in Node 20+, and it makes no network call. Checked by test/integration/signed-url-recipes.test.ts against
 * AWS's published vectors: the Signature Version 4 test suite (get-vanilla, get-vanilla-query-order-key-case;
 * docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html) and the presigned URL example of
 * "Authenticating Requests: Using Query Parameters" (docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
 *
 * @example
 * ```ts
 * import { connect } from 'iotpubsub'
 * import { awsIotUrl } from './aws-sigv4.js'
 * const endpoint = 'abc123-ats.iot.eu-west-1.amazonaws.com'
 * const client = connect(`wss://${endpoint}/mqtt`, {
 *   clientId: 'dashboard-1',
 *   credentials: async () => ({ url: await awsIotUrl({ endpoint, region: 'eu-west-1', credentials: await freshAwsCredentials() }) }),
 * })
 * ```
 */

/** An access key, with the session token of temporary credentials (Cognito, STS). */
export interface AwsCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** SHA-256 of the empty payload, hex: what a GET signs as its body. */
export const EMPTY_PAYLOAD_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

const encoder = new TextEncoder()

/** SigV4's URI encoding: every byte but the unreserved characters, in uppercase hex. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** `20150830T123600Z`: the timestamp SigV4 signs. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

/**
 * The canonical request: method, path, query sorted by name then value, headers in lowercase sorted (with the
 * list of their names), and the payload's hash.
 */
export function canonicalRequest(method: string, path: string, query: ReadonlyArray<readonly [string, string]>, headers: Readonly<Record<string, string>>, payloadHash: string): string {
  const sortedQuery = query
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
  const names = Object.keys(headers).map((name) => name.toLowerCase()).sort()
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value.trim().replace(/\s+/g, ' ')]))
  const canonicalHeaders = names.map((name) => `${name}:${lower[name]}\n`).join('')
  return [method, path, sortedQuery, canonicalHeaders, names.join(';'), payloadHash].join('\n')
}

/** The signature (hex) of a canonical request made at `date`, for `region` and `service`. */
export async function signature(canonical: string, date: Date, region: string, service: string, secretAccessKey: string): Promise<string> {
  const stamp = amzDate(date)
  const scope = `${stamp.slice(0, 8)}/${region}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, hex(await sha256(canonical))].join('\n')
  let key: ArrayBuffer = encoder.encode(`AWS4${secretAccessKey}`).buffer as ArrayBuffer
  for (const part of [stamp.slice(0, 8), region, service, 'aws4_request']) key = await hmac(key, part)
  return hex(await hmac(key, stringToSign))
}

/**
 * `url` presigned in its query (`X-Amz-*`), only the `host` header signed. `payloadHash`: the empty payload's
 * hash (AWS IoT), or `UNSIGNED-PAYLOAD` (S3). A session token is signed with the rest unless
 * `tokenAfterSigning` (AWS IoT adds it after the signature).
 */
export async function presignUrl(options: {
  url: string
  region: string
  service: string
  credentials: AwsCredentials
  date?: Date
  expires?: number
  payloadHash?: string
  tokenAfterSigning?: boolean
}): Promise<string> {
  const url = new URL(options.url)
  const date = options.date ?? new Date()
  const { accessKeyId, secretAccessKey, sessionToken } = options.credentials
  const stamp = amzDate(date)
  const query: Array<[string, string]> = [...url.searchParams.entries()]
  query.push(
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${accessKeyId}/${stamp.slice(0, 8)}/${options.region}/${options.service}/aws4_request`],
    ['X-Amz-Date', stamp],
    ['X-Amz-SignedHeaders', 'host'],
  )
  if (options.expires !== undefined) query.push(['X-Amz-Expires', String(options.expires)])
  if (sessionToken && !options.tokenAfterSigning) query.push(['X-Amz-Security-Token', sessionToken])
  const canonical = canonicalRequest('GET', url.pathname || '/', query, { host: url.host }, options.payloadHash ?? EMPTY_PAYLOAD_HASH)
  query.push(['X-Amz-Signature', await signature(canonical, date, options.region, options.service, secretAccessKey)])
  if (sessionToken && options.tokenAfterSigning) query.push(['X-Amz-Security-Token', sessionToken])
  return `${url.protocol}//${url.host}${url.pathname}?${query.map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`).join('&')}`
}

/**
 * AWS IoT Core's presigned WebSocket URL: `wss://<endpoint>/mqtt`, service `iotdevicegateway`, the empty
 * payload's hash, the session token (temporary credentials) added after signing, as AWS IoT requires.
 */
export function awsIotUrl(options: { endpoint: string; region: string; credentials: AwsCredentials; date?: Date; expires?: number }): Promise<string> {
  return presignUrl({
    url: `wss://${options.endpoint}/mqtt`,
    region: options.region,
    service: 'iotdevicegateway',
    credentials: options.credentials,
    ...(options.date ? { date: options.date } : {}),
    expires: options.expires ?? 86_400,
    tokenAfterSigning: true,
  })
}

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(text))
}

async function hmac(key: ArrayBuffer, text: string): Promise<ArrayBuffer> {
  const imported = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return crypto.subtle.sign('HMAC', imported, encoder.encode(text))
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')
}
