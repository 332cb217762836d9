"""Build, prove and ship an assignment."""
