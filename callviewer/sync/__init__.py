"""Reading call records from files and APIs into the store."""
