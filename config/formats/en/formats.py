"""English formats with one change: a date and time always names its zone ("May 5, 2027, 4 p.m. PDT")."""

DATETIME_FORMAT = "N j, Y, P T"
