"""Generated gRPC stubs of proto/gradwire/v1/gradwire.proto (never edited by hand: run make proto)."""
