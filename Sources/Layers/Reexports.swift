// SHA256Stream moved to ImageModel (issue 12: content is hashed in one place, beside
// `Digest`). Re-exported for the transition so code that reached it through `import Layers`
// keeps building; new code imports ImageModel.
@_exported import struct ImageModel.SHA256Stream
