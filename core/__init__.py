"""Pure logic: no cdktf, no provider bindings, no AWS. Everything here is cheap to import and test."""
