"""Maps: classification and palettes (:mod:`.classes`), the one legend model (:mod:`.legend`),
geometry prepared for the web (:mod:`.geometry`), the values per area (:mod:`.areas`), shared
texts (:mod:`.labels`), the plotly choropleth (:mod:`.choropleth`), the canvas map of thousands
of areas (:mod:`.canvas`) and the national buurt geometry (:mod:`.national`)."""
