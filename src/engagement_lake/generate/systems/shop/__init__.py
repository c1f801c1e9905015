"""The shop system: accounts, orders, returns, products, sessions and visits."""
