"""The one layer that knows OpenAPI: pointers and `$ref`s, validation, operations, event streams.

`pointer` works on any JSON document (the description diff and skill schemas use it too);
`document.OpenAPIDocument` puts the rest together for one description, and
`harness.contract` builds on it. Nothing here knows VLM Run's API: that is the
description's job. Import the modules themselves: this package file imports nothing, so
reading a pointer does not load the validators.
"""
