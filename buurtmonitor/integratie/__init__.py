"""Figures by origin group (integration): indicators per herkomstgroep for gemeente, wijk and
buurt, from CBS and from a gemeente's own data, as one long frame."""
