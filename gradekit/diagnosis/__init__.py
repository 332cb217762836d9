"""Which known mistake a failing function makes."""
