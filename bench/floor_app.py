"""The floor of the benchmark: a bare Streamlit page (a title and a line of text), served with the
same server flags and measured with the same browser as the dashboard (``bench/run.py``)."""

import streamlit as st

st.title("Vloer")
st.write("Een kale Streamlit-pagina: een titel en een regel tekst.")
