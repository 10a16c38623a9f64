// The value types of Gatehouse's API (profiles, tokens, redirect targets, provider errors) live in
// GatehouseCore, which has no dependencies so it can be fuzzed on its own; importing Gatehouse
// brings them along.
@_exported import GatehouseCore
