"""Maps: classification and colours, geometry prepared for the web, the plotly choropleth,
the canvas map of thousands of areas, and the national buurt geometry."""
