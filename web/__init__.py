"""web: Folium pages (the coverage map, embeds, route maps) and the offline Leaflet assets they load."""
