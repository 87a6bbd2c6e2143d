"""OP Stack block execution on py-evm's interpreter: fork rules, fees, transactions, receipts, headers, blocks."""
