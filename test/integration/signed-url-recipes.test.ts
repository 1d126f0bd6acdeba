// Issue 27: the docs' signing recipes (docs/recipes/) against published vectors, without a network call: AWS's
// Signature Version 4 test suite and S3's presigned URL example, and the SAS token of Microsoft's Azure IoT CLI
// extension tests. Pure logic (run by both projects, as the folder's suites are).
import { describe, expect, it } from 'vitest'
import { awsIotUrl, canonicalRequest, EMPTY_PAYLOAD_HASH, presignUrl, signature } from '../../docs/recipes/aws-sigv4.js'
import { sasToken } from '../../docs/recipes/azure-sas.js'

// The test suite's credentials and time (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html).
const SUITE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
const SUITE_DATE = new Date(Date.UTC(2015, 7, 30, 12, 36, 0))
const SUITE_HEADERS = { Host: 'example.amazonaws.com', 'X-Amz-Date': '20150830T123600Z' }

describe('AWS Signature Version 4 (docs/recipes/aws-sigv4.ts)', () => {
  it('get-vanilla: the canonical request and the signature of the test suite', async () => {
    const canonical = canonicalRequest('GET', '/', [], SUITE_HEADERS, EMPTY_PAYLOAD_HASH)
    expect(canonical).toBe(`GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_PAYLOAD_HASH}`)
    expect(await signature(canonical, SUITE_DATE, 'us-east-1', 'service', SUITE_SECRET)).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31')
  })

  it('get-vanilla-query-order-key-case: the query sorted', async () => {
    const canonical = canonicalRequest('GET', '/', [['Param2', 'value2'], ['Param1', 'value1']], SUITE_HEADERS, EMPTY_PAYLOAD_HASH)
    expect(canonical.split('\n')[2]).toBe('Param1=value1&Param2=value2')
    expect(await signature(canonical, SUITE_DATE, 'us-east-1', 'service', SUITE_SECRET)).toBe('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500')
  })

  it("S3's presigned URL example (Authenticating Requests: Using Query Parameters)", async () => {
    const url = await presignUrl({
      url: 'https://examplebucket.s3.amazonaws.com/test.txt',
      region: 'us-east-1',
      service: 's3',
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      date: new Date(Date.UTC(2013, 4, 24)),
      expires: 86_400,
      payloadHash: 'UNSIGNED-PAYLOAD',
    })
    expect(url).toBe(
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
        '&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=86400&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    )
  })

  it('AWS IoT: wss://<endpoint>/mqtt, service iotdevicegateway, the session token after the signature', async () => {
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SUITE_SECRET }
    const options = { endpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com', region: 'eu-west-1', date: SUITE_DATE }
    const plain = new URL(await awsIotUrl({ ...options, credentials }))
    const withToken = new URL(await awsIotUrl({ ...options, credentials: { ...credentials, sessionToken: 'token/+=' } }))
    expect(plain.origin + plain.pathname).toBe('wss://abc123-ats.iot.eu-west-1.amazonaws.com/mqtt')
    expect(plain.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20150830/eu-west-1/iotdevicegateway/aws4_request')
    expect(withToken.searchParams.get('X-Amz-Signature')).toBe(plain.searchParams.get('X-Amz-Signature'))
    expect([...withToken.searchParams.keys()].at(-1)).toBe('X-Amz-Security-Token')
    expect(withToken.searchParams.get('X-Amz-Security-Token')).toBe('token/+=')
  })
})

describe('Azure SAS token (docs/recipes/azure-sas.ts)', () => {
  it("the token of the Azure IoT CLI extension's tests", async () => {
    const token = await sasToken({ resource: 'iot-hub-for-test.azure-devices.net/devices/iot-device-for-test', key: '+XLy+MVZ+aTeOnVzN2kLeB16O+kSxmz6g3rS6fAf6rw=', expiresAt: 1471940363 })
    expect(token).toBe('SharedAccessSignature sr=iot-hub-for-test.azure-devices.net%2Fdevices%2Fiot-device-for-test&sig=SIumZ1ACqqPJZ2okHDlW9MSYKykEpqsQY3z6FMOICd4%3D&se=1471940363')
  })
})
