"""The pure vocabulary of Attain: money, periods, records, plans and problems."""
