// The HTTP stack moved to HTTPTransport and Google's credentials to GoogleAuth (issue 12:
// Vertex stands on them without importing Registry). The public names callers reached
// through `import Registry` are re-exported for the transition; new code imports the
// module that defines them.
@_exported import struct HTTPTransport.Origin
@_exported import enum HTTPTransport.RequestBody
@_exported import enum HTTPTransport.TransportError
@_exported import class GoogleAuth.GoogleCredentials
@_exported import struct GoogleAuth.GoogleAPIBase
@_exported import struct GoogleAuth.GoogleServiceAccountKey
