# rerun with: gnuplot gpt.gp
set terminal pngcairo size 1400,520 enhanced font 'DejaVu Sans,10'
set output 'gpt.png'
set multiplot layout 1,2 title 'GPT: validation loss against learning rate, one line per width'
set grid lc rgb '#dddddd'
set xlabel 'log2 learning rate'
set ylabel 'validation loss'
set key top left
set yrange [2.612723224401474:3.468501091003418]
set title 'µP'
plot 'gpt-mup.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 64', \
     'gpt-mup.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 128', \
     'gpt-mup.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 256', \
     'gpt-mup-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'argmin'
set title 'SP'
plot 'gpt-sp.dat' index 0 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 64', \
     'gpt-sp.dat' index 1 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 128', \
     'gpt-sp.dat' index 2 using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width 256', \
     'gpt-sp-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'argmin'
unset multiplot
