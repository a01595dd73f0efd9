"""Block Kit views: pure functions from data to messages and modals, one module per part of
the product; every id they use is in `ids`, every primitive in `kit`."""
