"""Tools shared by the tests and the bench (never imported by the app): stand-in CBS and PDOK
servers, the Streamlit launcher, the generator of a detailed national buurt set."""
