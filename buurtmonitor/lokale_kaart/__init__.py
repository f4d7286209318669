"""The lokale-kaart measures: segregation and diversity, change signals, spatial clusters,
and the glue that sets them against all gemeenten."""
